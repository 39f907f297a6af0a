"""Phase 1, "reading messages": which UIDs of a folder still need importing.

Fast path (same UIDVALIDITY as the checkpoint): one UID SEARCH for UIDs above it, and messages gone
from the server marked (vanished.py: no command at all unless the folder's count changed unexpectedly). Otherwise, if
the account already has messages (another folder, an older UIDVALIDITY), walk back from the newest
message comparing Message-IDs with what is stored, and stop at the first batch that is all known.

Every path counts the messages it looked at (the UIDs a search returned, the headers a scan compared) in the
job's `checked`, summed over the job's folders, and tells the page ("reading", checked so far).
"""
import time

from ..mime import message_rows
from ..mime.parser import parse_message
from . import job_records, vanished

SCAN_BATCH = 500


def plan_folder(session, job, owner, info, deadline, notifier):
    """Store the folder's plan in the job; False if the deadline came first (the scan goes on next chunk)."""
    account_id = job["account_id"]
    if job["scan_below"] is not None and job["plan_uidvalidity"] == info.uidvalidity:
        return _scan(session, job, owner, info, deadline, notifier, base=max(0, (job["total"] or 0) - info.exists))
    checkpoint = job_records.folder_state(account_id, info.name)
    before = job["checked"] or 0
    if checkpoint is not None and checkpoint[0] == info.uidvalidity:
        last_uid = checkpoint[1]
        uids = session.uids_after(last_uid)
        vanished.check(session, account_id, info, last_uid, uids)
        _looked_at(notifier, info, before + len(uids))
        job_records.save_plan(job, owner, info.name, info.uidvalidity, uids, max(uids, default=last_uid), None,
                              checked=before + len(uids))
        return True
    if not job_records.has_messages(account_id):
        uids = session.all_uids()  # nothing to compare with: everything is new
        _looked_at(notifier, info, before + len(uids))
        job_records.save_plan(job, owner, info.name, info.uidvalidity, uids, max(uids, default=0), 0,
                              checked=before + len(uids))
        return True
    job = dict(job, scan_below=None, plan_uids=[], checked=before)
    return _scan(session, job, owner, info, deadline, notifier, base=before)


def _looked_at(notifier, info, checked, total=None):
    notifier.progress({"type": "progress", "state": "running", "phase": "reading", "folder": info.name,
                       "checked": checked, "total": total, "remaining": 0})


def message_id_of(header_block):
    """The Message-ID in a fetched header block, normalised as stored messages' are."""
    if not header_block:
        return None
    return message_rows.normalize_message_id(parse_message(header_block.rstrip(b"\r\n") + b"\r\n\r\n").message_id)


def _scan(session, job, owner, info, deadline, notifier, base):
    """Walk back from the newest message; `base`: what the job had checked before this folder."""
    all_uids = session.all_uids()
    below = job["scan_below"] if job["scan_below"] is not None else (all_uids[-1] + 1 if all_uids else 1)
    found = list(job["plan_uids"] or [])
    checked = job["checked"]
    candidates = [uid for uid in reversed(all_uids) if uid < below]
    stop = False
    for start in range(0, len(candidates), SCAN_BATCH):
        batch = candidates[start:start + SCAN_BATCH]
        ids = {uid: message_id_of(block) for uid, block in session.message_id_headers(batch).items()}
        known = job_records.known_message_ids(job["account_id"], {m for m in ids.values() if m})
        found.extend(uid for uid in batch if uid in ids and (ids[uid] is None or ids[uid] not in known))
        checked += len(batch)
        below = batch[-1]
        with_id = [m for m in ids.values() if m]
        stop = bool(with_id) and all(m in known for m in with_id)
        _looked_at(notifier, info, checked, base + info.exists)
        if stop:
            break
        job_records.save_scan(job, owner, info.uidvalidity, found, below, checked, base + info.exists)
        if time.monotonic() >= deadline and start + SCAN_BATCH < len(candidates):
            return False
    plan = sorted(found)
    top = all_uids[-1] if all_uids else 0
    checkpoint = plan[0] - 1 if plan else top
    job_records.save_plan(job, owner, info.name, info.uidvalidity, plan, top, checkpoint, checked=checked)
    return True
