"""Live captions: each stage member's voice, taken from the mixer, gated by voice activity and
recognized in worker processes (`gate`, `tap`, `workers`, `engines`)."""
