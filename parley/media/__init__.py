"""Media: WebRTC edge, per-space mixer, recorder, HLS packager (DESIGN.md, "Media")."""
