import requests


def reconcile(events_url, processed, handle):
    """Handle, once and oldest first, every event the provider lists that is not in `processed`."""
    events, params = [], {"limit": 100}
    while True:
        page = requests.get(events_url, params=params, timeout=5).json()
        events += page["data"]  # each page is newest first
        if not page["has_more"]:
            break
        params = {"limit": 100, "starting_after": page["data"][-1]["id"]}  # the next, older page
    for event in reversed(events):  # oldest first, the order they happened in
        if event["id"] not in processed:
            handle(event)
            processed.add(event["id"])  # only once its work has succeeded
