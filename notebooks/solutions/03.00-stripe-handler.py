import webhooklab as wl


def handle(body, headers, secret):
    """What a Flask view would return for one Stripe webhook: (status, message)."""
    try:
        event = wl.Stripe(secret).verify(body, headers)
    except wl.SignatureError as error:
        return 400, f"bad signature: {error.reason}"
    return 200, f"received {event['type']}"
