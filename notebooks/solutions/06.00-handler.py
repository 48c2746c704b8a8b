stripe = wl.Stripe(challenge.secret)
handled = set()  # ids of events whose work is stored (in production: a table with a unique key on the event id)


@challenge.handler
def handle(body, headers):
    try:
        event = stripe.verify(body, headers)  # the raw bytes, the default 300 s tolerance
    except wl.SignatureError:
        return 400  # the request is wrong: act on nothing
    if event["id"] in handled:
        return 200  # a retry or a replay: the signed event id says it is done
    intent = event["data"]["object"]
    # Events arrive in any order, and Stripe advises against ordering them by `created` (whole seconds: they tie).
    challenge.payments[intent["id"]] = challenge.api.retrieve(intent["id"])  # the intent as it is now (safe to repeat)
    if event["type"] == "payment_intent.succeeded":
        try:
            challenge.enqueue(challenge.credit, intent["customer"], intent["amount"])  # stored now, run after
        except ConnectionError:
            return 503  # our database is down: nothing is marked, so Stripe's retry does the work
    handled.add(event["id"])  # last: only once the work is stored
    return 200
