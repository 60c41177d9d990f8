"""What the exchange decides, free of HTTP and SQL."""
