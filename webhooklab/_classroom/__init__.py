"""Classroom mode: one instructor's server with a private bin per learner, and a dashboard for the instructor.

folder.py     the class folder: roster, readable tokens and secrets in private files; a learner added or rotated
handout.py    the handout: per learner the line that joins their bin, its QR code and their secret
server.py     one server, a bin per learner at /b/<token>/, `webhooklab classroom`; reset, add and rotate a learner
progress.py   class.db: challenge reports, exercise verdicts and each learner's last change, and their endpoints
dashboard.py  the instructor's dashboard at /teacher/<admin>/: everyone's counts and scores, class exports
gradebook.py  the dashboard's progress: who is where and who is stuck, the gradebook CSV, the projector's view
room.py       the dashboard's room: reset, add and rotate a learner from its buttons
limits.py     each bin's share of the server: requests in flight, bytes kept, endpoints, the disk's floor
shelf.py      the bins' stores, a bounded number open at once (a class of 100 under 256 open files)
static/       the dashboard's live page and the projector's (static HTML, CSS and JavaScript, a script per section)
"""

from .folder import ClassFolder, Learner, lan_address, numbered
from .server import ClassServer, run

__all__ = ["ClassFolder", "ClassServer", "Learner", "lan_address", "numbered", "run"]
