STATUS = {
    "bad signature": 400,  # the request is at fault: it will never verify
    "stale timestamp": 400,  # a replay: refused like a bad signature
    "duplicate": 200,  # handled already: acknowledge it, do nothing
    "type not handled": 200,  # genuine, just not for us: acknowledge and ignore
    "accepted": 200,  # genuine and taken on; the slow work happens after the answer
    "database down": 503,  # our failure: ask Stripe to retry later
}
