"""GQA-format question sets generated on GQA scene graphs (:mod:`.generate`)."""
