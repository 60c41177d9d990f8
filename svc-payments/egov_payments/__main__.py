from egov_payments.app import create_app, definition
from meshkit.cli import main

if __name__ == "__main__":
    main(definition, create_app)
