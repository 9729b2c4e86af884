# Schemathesis hooks for Tests/fuzz/api-fuzz.sh: a user id equal to the session's own (the
# administrator the fuzzer signs in as) is swapped for a seeded user's, so no request locks the
# fuzzer out of its own session.
import os
import schemathesis

ADMIN = os.environ.get("CUSTODY_ADMIN_ID", "")
SAFE_UID = os.environ.get("CUSTODY_SAFE_UID", "")


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if "uid" in params and ADMIN and str(params["uid"]).strip().lower() == ADMIN.lower():
        params["uid"] = SAFE_UID
