"""The record contract shared by both paths (see `shared.contract`)."""
