"""The AWS CLI's own `aws eks get-token`, on a frozen clock: the oracle for eks6's token.

    python aws_get_token.py 2026-11-30T12:34:56 --region us-west-2 eks get-token --cluster-name X

runs the AWS CLI (PyPI `awscli`, which bundles its botocore) with every clock it reads
(the signer's, the token's expiry) pinned to the given UTC time, credentials from the
environment as usual. It prints what the AWS CLI prints: the ExecCredential JSON.
"""

import datetime
import sys

import awscli.botocore.auth as auth
import awscli.customizations.eks.get_token as get_token
from awscli.clidriver import main

FROZEN = datetime.datetime.fromisoformat(sys.argv[1])


def frozen(remove_tzinfo=True):
    return FROZEN if remove_tzinfo else FROZEN.replace(tzinfo=datetime.timezone.utc)


auth.get_current_datetime = frozen
get_token.get_current_datetime = frozen
# Every module that took the function by name (the signer's own copy included).
for module in list(sys.modules.values()):
    if getattr(module, "get_current_datetime", None) is not None:
        module.get_current_datetime = frozen
sys.argv = ["aws", *sys.argv[2:]]
# Modules imported by the command line itself take the frozen clock too.
import awscli.clidriver  # noqa: E402,F401
sys.exit(main())
