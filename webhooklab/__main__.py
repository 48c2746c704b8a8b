"""`python -m webhooklab` is the `webhooklab` command."""

from .cli import main

raise SystemExit(main())
