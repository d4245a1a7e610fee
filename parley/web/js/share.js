// A space's share page (/s/{id}, rendered by the server): the play button listens by HLS, signed
// out (hls.js, or the browser's own HLS in Safari). Pressing it is the user gesture autoplay
// wants; pressing it again stops.
import { connectHls } from "./hls-audio.js";

const button = document.getElementById("play");
const status = document.getElementById("listen-status");
const player = document.getElementById("player");
let connection = null;

function say(text) {
  status.textContent = text;
}

async function play() {
  button.disabled = true;
  say("Connecting…");
  try {
    connection = await connectHls({
      spaceId: button.dataset.space,
      token: null,
      audio: player,
      onGone() {
        connection = null;
        button.hidden = true;
        say("This space is no longer available.");
      },
    });
    window.parleyShare = { connection }; // for tests and curious eyes
    player.addEventListener("playing", () => say("Listening live, a few seconds behind"), { once: true });
    player.play().catch(() => {});
    button.textContent = "Stop";
  } catch (error) {
    say(`Could not play this space: ${error.message}`);
    connection = null;
  } finally {
    button.disabled = false;
  }
}

function stop() {
  connection.close();
  connection = null;
  button.textContent = "Play";
  say("Stopped");
}

button.addEventListener("click", () => (connection ? stop() : play()));
