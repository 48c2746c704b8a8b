"""`python -m webhooklab` is the `webhooklab` command."""

from ._cli import main

raise SystemExit(main())
