"""Path A: the Firehose transformation Lambda (`firehose_transform.app`)."""
