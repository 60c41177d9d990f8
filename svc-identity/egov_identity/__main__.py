import sys

from egov_identity.app import create_app, definition
from meshkit.cli import main

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "generate-persons":
        from egov_identity.generator import main as generate_persons

        generate_persons(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "operators":
        from egov_identity.operators_cli import main as operators_main

        sys.exit(operators_main(sys.argv[2:]))
    else:
        main(definition, create_app)
