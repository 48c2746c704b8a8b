import json


def what_happened(headers, body):
    """The event's name, wherever its provider puts it."""
    for name in ("X-GitHub-Event", "X-Shopify-Topic"):  # GitHub and Shopify: a header
        if headers.get(name):
            return headers[name]
    return json.loads(body)["type"]  # Stripe: only in the JSON body
