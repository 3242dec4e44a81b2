"""The MUSHRA test page: one HTML document and its script, kept here so the package needs no data files.

Playback uses the Web Audio API: every stimulus of a trial is fetched and decoded once, then all of them
loop together, each through its own gain; switching sets one gain to 1 and the others to 0 (with a 5 ms
ramp), so switching is instant and keeps the playback position. `window.mushra` exposes the page's state
for automated tests.
"""

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MUSHRA listening test</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
  button { font-size: 1em; padding: 0.4em 0.9em; margin: 0.2em; cursor: pointer; }
  button.playing { background: #2a6; color: white; }
  #slots { display: flex; gap: 1em; align-items: flex-end; margin: 1em 0; }
  .slot, .scale { display: flex; flex-direction: column; align-items: center; }
  .slot input[type=range] { writing-mode: vertical-lr; direction: rtl; height: 16rem; margin: 0; }
  .value { font-weight: bold; min-height: 1.4em; }
  .bands { display: flex; flex-direction: column-reverse; height: 16rem; }
  .bands div { flex: 1; display: flex; align-items: center; border-top: 1px dotted #aaa; padding-right: 0.5em; }
  #status { color: #a33; min-height: 1.4em; }
  .clip { border-top: 1px solid #ddd; padding: 0.5em 0; }
</style>
</head>
<body>
<h1>MUSHRA listening test</h1>
<section id="login">
  <p>Use headphones in a quiet room. Enter your name to start or to continue where you stopped.</p>
  <label>Name <input id="listener" autocomplete="off" pattern="[A-Za-z0-9_-]{1,64}"></label>
  <button id="start">Start</button>
</section>
<section id="training" hidden>
  <h2>Training</h2>
  <p>Listen to every version of every excerpt to learn the range of quality. Nothing is rated here.
     Each button switches playback at once, at the same position.</p>
  <div id="training-clips"></div>
  <button id="stop-training">Stop</button>
  <button id="begin">Start the test</button>
</section>
<section id="trial" hidden>
  <h2 id="trial-title"></h2>
  <p>Rate each version against the reference (0 = bad, 100 = excellent). One of them is the reference
     itself: rate at least one version 100.</p>
  <button id="play-reference">Reference</button> <button id="stop">Stop</button>
  <div id="slots">
    <div class="scale">
      <div class="value"></div>
      <div class="bands"><div>Bad</div><div>Poor</div><div>Fair</div><div>Good</div><div>Excellent</div></div>
      <button style="visibility: hidden">A</button>
    </div>
  </div>
  <button id="submit" disabled>Submit and continue</button>
</section>
<section id="done" hidden><h2>Thank you!</h2><p>All trials are rated and saved. You may close this page.</p></section>
<p id="status"></p>
<script src="/app.js"></script>
</body>
</html>
"""

APP_JS = r"""'use strict';
const state = { listener: null, trials: [], current: 0, scores: [], decoded: 0, saves: 0, errors: [],
                context: null, buffers: new Map(), voices: [], active: null };
window.mushra = state;
const $ = (id) => document.getElementById(id);
const show = (id) => ['login', 'training', 'trial', 'done'].forEach((s) => { $(s).hidden = s !== id; });
const status = (text) => { $('status').textContent = text; if (text) state.errors.push(text); };

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

async function decode(url) {
  if (!state.buffers.has(url)) {
    const bytes = await (await fetch(url)).arrayBuffer();
    state.buffers.set(url, await state.context.decodeAudioData(bytes));
    state.decoded += 1;
  }
  return state.buffers.get(url);
}

function stop() {
  state.voices.forEach((v) => v.source.stop());
  state.voices = [];
  state.active = null;
  document.querySelectorAll('button.playing').forEach((b) => b.classList.remove('playing'));
}

// Starts every url of the group together (looping, silent), then makes `url` the audible one.
async function play(urls, url, button) {
  const ctx = state.context;
  await ctx.resume();
  if (!state.voices.length || state.voices.map((v) => v.url).join() !== urls.join()) {
    stop();
    const buffers = await Promise.all(urls.map(decode));
    const start = ctx.currentTime + 0.05;
    state.voices = urls.map((u, i) => {
      const source = ctx.createBufferSource();
      const gain = ctx.createGain();
      source.buffer = buffers[i];
      source.loop = true;
      gain.gain.value = 0;
      source.connect(gain).connect(ctx.destination);
      source.start(start);
      return { url: u, source, gain };
    });
  }
  const now = ctx.currentTime;
  state.voices.forEach((v) => {
    v.gain.gain.cancelScheduledValues(now);
    v.gain.gain.setValueAtTime(v.gain.gain.value, now);
    v.gain.gain.linearRampToValueAtTime(v.url === url ? 1 : 0, now + 0.005);
  });
  state.active = url;
  document.querySelectorAll('button.playing').forEach((b) => b.classList.remove('playing'));
  button.classList.add('playing');
}

function playButton(label, urls, url) {
  const button = document.createElement('button');
  button.textContent = label;
  button.onclick = () => play(urls, url, button).catch((e) => status('playback failed: ' + e.message));
  return button;
}

async function startTraining() {
  const { clips } = await api('/api/training');
  const box = $('training-clips');
  box.replaceChildren();
  for (const clip of clips) {
    const urls = [clip.reference, ...clip.conditions.map((c) => c.url)];
    const row = document.createElement('div');
    row.className = 'clip';
    row.append(clip.clip + ': ', playButton('Reference', urls, clip.reference));
    clip.conditions.forEach((c) => row.append(playButton(c.name, urls, c.url)));
    box.append(row);
  }
  show('training');
}

function trialUrls(trial) { return [trial.reference, ...trial.stimuli]; }

let saveTimer = null;
function save(submit) {
  clearTimeout(saveTimer);
  const body = { listener: state.listener, trial: state.current, scores: state.scores, submit };
  return api('/api/rate', body).then((reply) => { state.saves += 1; status(''); return reply; },
                                     (e) => { status('not saved: ' + e.message); throw e; });
}

function updateSubmit() {
  const complete = state.scores.every((s) => s !== null) && state.scores.includes(100);
  $('submit').disabled = !complete;
}

async function showTrial(index) {
  stop();
  if (index >= state.trials.length) { show('done'); return; }
  state.current = index;
  const trial = state.trials[index];
  state.scores = trial.scores.slice();
  $('trial-title').textContent = `Trial ${index + 1} of ${state.trials.length}`;
  const urls = trialUrls(trial);
  $('play-reference').onclick = () => play(urls, trial.reference, $('play-reference'))
    .catch((e) => status('playback failed: ' + e.message));
  const slots = $('slots');
  slots.querySelectorAll('.slot').forEach((s) => s.remove());
  trial.stimuli.forEach((url, i) => {
    const slot = document.createElement('div');
    slot.className = 'slot';
    const value = document.createElement('div');
    value.className = 'value';
    const slider = document.createElement('input');
    Object.assign(slider, { type: 'range', min: 0, max: 100, step: 1, id: `slider-${i}` });
    slider.value = state.scores[i] ?? 0;
    value.textContent = state.scores[i] ?? '-';
    slider.oninput = () => {
      state.scores[i] = Number(slider.value);
      value.textContent = slider.value;
      updateSubmit();
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => save(false).catch(() => {}), 300);
    };
    slider.onchange = () => save(false).catch(() => {});
    const button = playButton(String.fromCharCode(65 + i), urls, url);
    button.id = `play-${i}`;
    slot.append(value, slider, button);
    slots.append(slot);
  });
  updateSubmit();
  show('trial');
  $('submit').disabled = true;
  await Promise.all(urls.map(decode));
  updateSubmit();
  const next = state.trials[index + 1];
  if (next) trialUrls(next).forEach((u) => decode(u).catch(() => {}));
}

async function start() {
  const name = $('listener').value.trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) { status('Use 1 to 64 letters, digits, - or _ for your name.'); return; }
  state.context = state.context || new AudioContext();
  const session = await api('/api/session?listener=' + encodeURIComponent(name));
  state.listener = session.listener;
  state.trials = session.trials;
  status('');
  const untouched = session.trials.every((t) => !t.submitted && t.scores.every((s) => s === null));
  if (untouched) await startTraining(); else await showTrial(session.next);
}

$('start').onclick = () => start().catch((e) => status(e.message));
$('listener').onkeydown = (e) => { if (e.key === 'Enter') $('start').click(); };
$('stop').onclick = stop;
$('stop-training').onclick = stop;
$('begin').onclick = () => showTrial(0).catch((e) => status(e.message));
$('submit').onclick = async () => {
  $('submit').disabled = true;
  try {
    const reply = await save(true);
    state.trials[state.current].submitted = true;
    state.trials[state.current].scores = state.scores.slice();
    await showTrial(reply.next);
  } catch (e) { updateSubmit(); }
};
"""
