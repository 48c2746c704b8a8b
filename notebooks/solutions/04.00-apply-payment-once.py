def apply_payment(balance, seen, event):
    """Add a payment's amount to the balance, once per event id however often it is delivered."""
    if event["id"] in seen:
        return balance  # a duplicate: already counted
    seen.add(event["id"])
    return balance + event["data"]["object"]["amount"]
