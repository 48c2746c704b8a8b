"""Sending: what a provider does after it has signed, with no receiver in sight.

clock.py      real, virtual and accelerated time, so three days of retries replay in seconds
retry.py      each provider's retry policy, and custom ones
timeline.py   spans said as a person would, and time lines of attempts whose labels never overlap
delivery.py   signed POSTs on the wire: an Attempt, a Delivery with its retries, many at once

Imports run one way: this wing reads only the package's shared modules (errors,
argument checks); providers and everything above build on it.
"""
