"""Texts the admin page shows that are defined in code (translated through the catalog)."""
from common.i18n import N_

SIGN_IN = N_("Sign in to continue.")
FOREIGN_FORM = N_("This form was sent from another site and was refused.")
WRONG_CREDENTIALS = N_("Wrong user name or password.")
CONFIRM_STOP = N_("Tick the box to confirm that the mailing stops now.")
STATES = {"scheduled": N_("scheduled"), "starting": N_("starting"), "started": N_("started")}
STATUSES = {"processing": N_("processing"), "sent": N_("sent"), "error": N_("error"), "expired": N_("expired")}
