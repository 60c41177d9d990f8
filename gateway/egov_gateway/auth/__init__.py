"""Who is calling the gateway: tokens issued by svc-identity, verified against its JWKS."""
