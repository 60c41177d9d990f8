"""The gateway domain: the service register, members, access rights, audit, applications."""
