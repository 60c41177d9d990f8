from egov_gateway.app import create_app, definition
from meshkit.cli import main

if __name__ == "__main__":
    # the gateway finds a caller's address itself (GATEWAY_TRUSTED_PROXIES): uvicorn must not
    # rewrite the peer from X-Forwarded-For (exchange/service_layer/source.py)
    main(definition, create_app, proxy_headers=False)
