stripe = wl.Stripe(challenge.secret)
seen = set()  # ids of events handled (in production: a table with a unique key on the event id)


@challenge.handler
def handle(body, headers):
    try:
        event = stripe.verify(body, headers)  # the raw bytes, the default 300 s tolerance
    except wl.SignatureError:
        return 400  # the request is wrong: act on nothing
    if event["id"] in seen:
        return 200  # a duplicate: handled already
    intent = event["data"]["object"]
    recorded = challenge.payments.get(intent["id"])
    if recorded is None or event["created"] > recorded["created"]:
        challenge.payments[intent["id"]] = event  # keep the newest event about this payment
    if event["type"] == "payment_intent.succeeded":
        challenge.enqueue(challenge.credit, intent["customer"], intent["amount"])  # after answering
    seen.add(event["id"])  # only now: if a step above failed (a 5xx), the id is not marked and the retry is handled
    return 200
