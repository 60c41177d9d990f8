"""The exchange's connections to the outside: agencies, identity's keys, the database."""
