// Test-only helpers injected into every e2e page before its own scripts run (an init script):
// count getUserMedia calls, analyse audio with Web Audio, read WebRTC stats, and a stand-in for the
// server's media endpoint so the browser side can be tested on its own.
(() => {
  const probe = { getUserMediaCalls: 0, mediaRequests: [] };
  window.parleyProbe = probe;

  // Count microphone requests: a listener's page must never make one.
  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const original = devices.getUserMedia.bind(devices);
    devices.getUserMedia = (...args) => {
      probe.getUserMediaCalls += 1;
      return original(...args);
    };
  }

  // --- analysis ------------------------------------------------------------------------------
  // Attaches an analyser to a stream. Chrome only feeds remote WebRTC audio into Web Audio while
  // the stream also plays in a media element; media.js does that, and so does this for any other
  // stream, muted so the test makes no sound.
  probe.analyse = async (stream) => {
    const element = new Audio();
    element.muted = true;
    element.srcObject = stream;
    // Neither promise may hold the test up: a stream with no data yet can leave play() pending
    // for good (the levels then say what was heard, or not).
    const settled = (promise) => Promise.race([promise.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    await settled(element.play());
    const context = new AudioContext({ sampleRate: 48000 });
    await settled(context.resume());
    const analyser = context.createAnalyser();
    analyser.fftSize = 4096; // 11.7 Hz bins, an 85 ms window
    analyser.smoothingTimeConstant = 0; // each reading is the last 85 ms only: timings stay honest
    context.createMediaStreamSource(stream).connect(analyser);
    probe.analyser = { context, analyser, element };
    return true;
  };

  // Magnitude (dB) of the strongest bin within 20 Hz of each frequency, and the noise floor (the
  // median bin between 100 Hz and 4 kHz, where both tones are only a few bins of hundreds).
  probe.levels = (frequencies = [440, 880]) => {
    const { context, analyser } = probe.analyser;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const hz = context.sampleRate / analyser.fftSize;
    const at = (f) => Math.round(f / hz);
    const band = Array.from(bins.slice(at(100), at(4000))).map((v) => (Number.isFinite(v) ? v : -200));
    band.sort((a, b) => a - b);
    const floor = band[band.length >> 1];
    const peaks = {};
    for (const f of frequencies) {
      let best = -200;
      for (let i = at(f - 20); i <= at(f + 20); i++) if (Number.isFinite(bins[i])) best = Math.max(best, bins[i]);
      peaks[f] = best;
    }
    return { t: Date.now(), floor, peaks };
  };

  // Reads levels every `intervalMs` in the page itself (no round trip to the test per reading).
  // Given a connection, each reading also has `rtp`: the RTP timestamp (48 kHz) of the last audio
  // frame its receiver handed to playout, the media time of what is heard at that reading; and,
  // once its stats arrive, `jitterDelay` and `jitterEmitted`: the receiver's running totals of
  // seconds that samples waited in its jitter buffer and of samples played (inbound-rtp), so a
  // test can tell the listener's own buffering from the way the audio came to him; and
  // `concealed` and `received`: its running totals of samples it made up for audio that had not
  // come (concealment) and of all samples it played, those included.
  probe.startWatch = (intervalMs = 50, pc = null) => {
    probe.samples = [];
    clearInterval(probe.watchTimer);
    const receiver = pc && pc.getReceivers().find((r) => r.track && r.track.kind === "audio");
    probe.watchTimer = setInterval(() => {
      const reading = probe.levels();
      const [source] = receiver ? receiver.getSynchronizationSources() : [];
      if (source) reading.rtp = source.rtpTimestamp;
      probe.samples.push(reading);
      if (receiver) {
        receiver.getStats().then((report) => report.forEach((s) => {
          if (s.type !== "inbound-rtp") return;
          reading.jitterDelay = s.jitterBufferDelay;
          reading.jitterEmitted = s.jitterBufferEmittedCount;
          reading.concealed = s.concealedSamples;
          reading.received = s.totalSamplesReceived;
        }));
      }
    }, intervalMs);
  };
  probe.stopWatch = () => {
    clearInterval(probe.watchTimer);
    return probe.samples;
  };

  // Audio bytes this page has sent over a connection (outbound-rtp), and received.
  probe.audioBytes = async (pc) => {
    let sent = 0;
    let received = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.kind !== "audio") return;
      if (s.type === "outbound-rtp") sent += s.bytesSent || 0;
      if (s.type === "inbound-rtp") received += s.bytesReceived || 0;
    });
    return { sent, received };
  };

  // --- a stand-in for POST /spaces/{id}/media ---------------------------------------------------
  // Answers the offer with a second RTCPeerConnection in the same page: a connection that sends
  // gets its own audio echoed back; a receive-only one gets a tone of `toneHz`. The first
  // `unreachable` answers name no address (as from a node that went away after answering:
  // nothing ever answers the browser's checks, and it never calls the connection "failed").
  // The first requests get `refusals` instead, in turn: {status, retry_after?, ...problem}.
  probe.fakeMediaServer = ({ toneHz = 880, unreachable = 0, refusals = [] } = {}) => {
    const realFetch = window.fetch.bind(window);
    probe.serverPeers = [];
    window.fetch = async (url, init = {}) => {
      if (!/\/spaces\/[^/]+\/media$/.test(String(url)) || init.method !== "POST") {
        return realFetch(url, init);
      }
      const offer = JSON.parse(init.body);
      probe.mediaRequests.push({ url: String(url), headers: init.headers, offer, at: Date.now() });
      const refusal = refusals[probe.mediaRequests.length - 1];
      if (refusal) {
        const headers = { "content-type": "application/problem+json" };
        if (refusal.retry_after !== undefined) headers["retry-after"] = String(refusal.retry_after);
        return new Response(JSON.stringify(refusal), { status: refusal.status, headers });
      }
      const peer = new RTCPeerConnection();
      probe.serverPeers.push(peer);
      await peer.setRemoteDescription(offer);
      const [transceiver] = peer.getTransceivers();
      if (/a=sendrecv/.test(offer.sdp)) {
        transceiver.direction = "sendrecv";
        await transceiver.sender.replaceTrack(transceiver.receiver.track); // echo
      } else {
        const context = new AudioContext({ sampleRate: 48000 });
        const oscillator = context.createOscillator();
        oscillator.frequency.value = toneHz;
        const destination = context.createMediaStreamDestination();
        oscillator.connect(destination);
        oscillator.start();
        transceiver.direction = "sendonly";
        await transceiver.sender.replaceTrack(destination.stream.getAudioTracks()[0]);
      }
      await peer.setLocalDescription(await peer.createAnswer());
      if (peer.iceGatheringState !== "complete") {
        await new Promise((resolve) =>
          peer.addEventListener("icegatheringstatechange", () => {
            if (peer.iceGatheringState === "complete") resolve();
          }),
        );
      }
      let sdp = peer.localDescription.sdp;
      if (probe.serverPeers.length <= unreachable) {
        sdp = sdp.split("\r\n").filter((line) => !line.startsWith("a=candidate")).join("\r\n");
        peer.close(); // gone: nor does it check the offer's addresses
      }
      const answer = { sdp, type: "answer", ice_servers: [] };
      return new Response(JSON.stringify(answer), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    };
  };
})();
