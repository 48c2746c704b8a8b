"""The push-against-poll experiment: a provider's events API, a poller, and the race between them.

polling.py        ProviderAPI, a Stripe-like GET /v1/events with cursors, 304s and rate limits; the Poller
push_vs_poll.py   wl.push_vs_poll(): the same events pushed to a receiver and polled at several intervals
progress.py       a long call's countdown: a bar in a notebook, a line on a terminal, nothing elsewhere
"""
