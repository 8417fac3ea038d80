/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate call page: joins a room over camgate's WebSocket (/rooms/ws), video-chats with
 * every other browser in it (media peer to peer, one RTCPeerConnection each) and shows
 * camgate's own camera (one more connection, to camgate). The classic flow, per peer: get
 * the camera, say "stream ok"; once both sides have, the older peer (smaller id) offers,
 * the other answers; candidates trickle both ways as "candidate" messages
 * ({label: sdpMLineIndex, id: sdpMid, candidate}) until "end of candidates". Towards
 * camgate the page always offers: camgate answers.
 *
 * URL parameters: room=NAME joins at once; camgate=0 does not call camgate; peers=0 calls
 * no browser; classic=1 sends no "to" (a two-party page: alone in its room it reaches
 * camgate); trickle-only=1 drops the candidates from camgate's answer so that only the
 * trickled ones are used (tests). No framework, no external resources.
 *
 * Test hooks: window.call (see `state` below).
 */
'use strict';

(function () {
  const CAMGATE = 'camgate';
  const STATS_INTERVAL_MS = 1000;
  const RECONNECT_MS = 2000;

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const opt = {
    room: params.get('room') || '',
    camgate: params.get('camgate') !== '0',
    peers: params.get('peers') !== '0',
    classic: params.get('classic') === '1',
    trickleOnly: params.get('trickle-only') === '1',
    // camgate-offers=1: ask camgate to offer ("call"), and answer it.
    camgateOffers: params.get('camgate-offers') === '1',
  };

  const state = {
    id: null,          // ours, from "joined"
    room: null,
    joined: false,
    remotes: {},       // id → public view of a Remote (see Remote.view)
    errors: [],        // error messages camgate sent us
    log: [],
  };
  window.call = state;

  let ws = null;
  let localStream = null;
  let inRoom = false;  // the user wants to be in state.room
  const remotes = new Map(); // id → Remote

  function log(...a) {
    const line = `${(performance.now() / 1000).toFixed(3)} ${a.join(' ')}`;
    state.log.push(line);
    if (state.log.length > 500) state.log.shift();
    console.log(line);
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  function idNumber(id) {
    const m = /^p(\d+)$/.exec(id);
    return m ? Number(m[1]) : Infinity;
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function sendTo(to, msg) {
    if (!opt.classic) msg.to = to;
    send(msg);
  }

  // ---- one remote peer: a browser, or camgate ----

  class Remote {
    constructor(id) {
      this.id = id;
      this.isCamgate = id === CAMGATE;
      this.pc = null;
      this.sentStreamOk = false;
      this.gotStreamOk = false;
      this.started = false;
      this.pending = [];   // candidates that arrived before the remote description
      this.remoteSet = false;
      this.view = { id, state: 'waiting', framesDecoded: 0, codec: null, width: 0, height: 0,
                    candidatesSent: 0, candidatesReceived: 0, endOfCandidatesSent: false,
                    endOfCandidatesReceived: false, localCandidate: null, remoteCandidate: null };
      state.remotes[id] = this.view;
      this.tile = makeTile(id, this.isCamgate);
    }

    setState(s) {
      this.view.state = s;
      this.tile.querySelector('.state').textContent = s;
    }

    helloIfNeeded() {
      if (this.sentStreamOk) return;
      this.sentStreamOk = true;
      sendTo(this.id, { type: 'stream ok' });
    }

    onStreamOk() {
      this.gotStreamOk = true;
      this.helloIfNeeded();
      if (this.started) return;
      this.started = true;
      this.createPc();
      // The older browser offers, as the room's first peer does in the classic flow;
      // camgate only answers.
      if (this.isCamgate && opt.camgateOffers) sendTo(this.id, { type: 'call' });
      else if (this.isCamgate || idNumber(state.id) < idNumber(this.id)) this.offer();
    }

    createPc() {
      const pc = new RTCPeerConnection();
      this.pc = pc;
      if (this.isCamgate && opt.camgateOffers) {
        // camgate's offer brings its own sections: the answer takes them as they come.
      } else if (this.isCamgate) {
        pc.addTransceiver('video', { direction: 'recvonly' });
      } else {
        for (const t of localStream.getTracks()) pc.addTrack(t, localStream);
      }
      pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) {
          this.view.candidatesSent++;
          sendTo(this.id, { type: 'candidate', label: e.candidate.sdpMLineIndex,
                            id: e.candidate.sdpMid, candidate: e.candidate.candidate });
        } else if (!e.candidate) {
          this.view.endOfCandidatesSent = true;
          sendTo(this.id, { type: 'end of candidates' });
        }
      };
      pc.ontrack = (e) => {
        const video = this.tile.querySelector('video');
        if (video.srcObject !== e.streams[0]) {
          video.srcObject = e.streams[0] || new MediaStream([e.track]);
          video.play().catch(() => {});
        }
      };
      pc.onconnectionstatechange = () => {
        this.setState(pc.connectionState);
        log(`${this.id}: ${pc.connectionState}`);
      };
      this.setState('connecting');
    }

    async offer() {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      // Sent at once, before gathering: candidates follow as messages (trickle ICE).
      sendTo(this.id, { type: 'offer', sdp: this.pc.localDescription.sdp });
    }

    async onOffer(sdp) {
      if (!this.pc) {
        this.started = true;
        this.createPc();
      }
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.flushCandidates();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      sendTo(this.id, { type: 'answer', sdp: this.pc.localDescription.sdp });
    }

    async onAnswer(sdp) {
      if (!this.pc) return;
      if (opt.trickleOnly && this.isCamgate) {
        sdp = sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') &&
                                            l !== 'a=end-of-candidates').join('\r\n');
      }
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      await this.flushCandidates();
    }

    async onCandidate(msg) {
      if (msg.type === 'candidate') this.view.candidatesReceived++;
      else this.view.endOfCandidatesReceived = true;
      this.pending.push(msg);
      if (this.pc && this.pc.remoteDescription) await this.flushCandidates();
    }

    async flushCandidates() {
      const list = this.pending;
      this.pending = [];
      for (const m of list) {
        try {
          if (m.type === 'candidate' && m.candidate) {
            await this.pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.id,
                                            sdpMLineIndex: m.label });
          } else {
            await this.pc.addIceCandidate(); // end of candidates
          }
        } catch (e) {
          log(`${this.id}: addIceCandidate: ${e.message}`);
        }
      }
    }

    async pollStats() {
      if (!this.pc) return;
      const stats = await this.pc.getStats();
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          this.view.framesDecoded = s.framesDecoded || 0;
          this.view.width = s.frameWidth || 0;
          this.view.height = s.frameHeight || 0;
          const c = s.codecId && stats.get(s.codecId);
          this.view.codec = c ? c.mimeType : null;
        }
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      const pair = pairId && stats.get(pairId);
      if (pair) {
        const l = stats.get(pair.localCandidateId);
        const r = stats.get(pair.remoteCandidateId);
        this.view.localCandidate = l ? `${l.address}:${l.port} ${l.candidateType}` : null;
        this.view.remoteCandidate = r ? `${r.address}:${r.port} ${r.candidateType}` : null;
      }
    }

    close() {
      if (this.pc) this.pc.close();
      this.pc = null;
      this.tile.remove();
      delete state.remotes[this.id];
    }
  }

  function makeTile(id, isCamgate) {
    const fig = document.createElement('figure');
    fig.className = isCamgate ? 'tile camgate' : 'tile';
    fig.id = `tile-${id}`;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    const cap = document.createElement('figcaption');
    cap.textContent = isCamgate ? 'camgate camera' : `peer ${id}`;
    const st = document.createElement('span');
    st.className = 'state';
    fig.append(video, cap, st);
    if (isCamgate) $('tiles').prepend(fig);
    else $('tiles').append(fig);
    return fig;
  }

  function remote(id) {
    let r = remotes.get(id);
    if (!r) {
      r = new Remote(id);
      remotes.set(id, r);
    }
    return r;
  }

  function dropRemote(id) {
    const r = remotes.get(id);
    if (!r) return;
    r.close();
    remotes.delete(id);
  }

  function dropAll() {
    for (const id of [...remotes.keys()]) dropRemote(id);
  }

  // ---- messages from camgate (table-driven, like the daemon) ----

  // Calls this page takes part in: camgate's unless camgate=0, browsers' unless peers=0.
  function wanted(m) {
    if (!m.from) return false;
    return m.from === CAMGATE ? opt.camgate : opt.peers;
  }

  // In classic mode nothing says who wrote a relayed message but "from"; camgate adds it.
  const handlers = {
    joined(m) {
      state.id = m.id;
      state.room = m.room;
      state.joined = true;
      setStatus(`in room ${m.room} as ${m.id}`);
      log(`joined ${m.room} as ${m.id}; peers: ${m.peers.join(', ') || 'none'}`);
      if (opt.peers && !opt.classic) for (const p of m.peers) remote(p).helloIfNeeded();
      if (opt.camgate && (!opt.classic || m.peers.length === 0)) remote(CAMGATE).helloIfNeeded();
      $('leave').disabled = false;
    },
    left() {
      state.joined = false;
      setStatus('left the room');
    },
    'peer joined'(m) { log(`peer ${m.id} joined`); },
    'peer left'(m) {
      log(`peer ${m.id} left`);
      dropRemote(m.id);
    },
    pong() {},
    error(m) {
      state.errors.push(m);
      log(`camgate says: ${m.about ? m.about + ': ' : ''}${m.message}`);
    },
    'stream ok'(m) { if (wanted(m)) remote(m.from).onStreamOk(); },
    offer(m) {
      if (wanted(m)) remote(m.from).onOffer(m.sdp).catch((e) => log(`offer: ${e.message}`));
    },
    answer(m) {
      if (wanted(m)) remote(m.from).onAnswer(m.sdp).catch((e) => log(`answer: ${e.message}`));
    },
    candidate(m) { if (wanted(m)) remote(m.from).onCandidate(m); },
    'end of candidates'(m) { if (wanted(m)) remote(m.from).onCandidate(m); },
    bye(m) {
      log(`${m.from} hung up`);
      dropRemote(m.from);
    },
  };

  function onMessage(e) {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      log('not JSON from camgate, ignored');
      return;
    }
    const h = handlers[m.type];
    if (h) h(m);
    else log(`unknown message ${m.type}, ignored`);
  }

  // ---- the channel ----

  function connect() {
    const url = new URL('rooms/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(url);
    setStatus('connecting…');
    ws.onopen = () => send({ type: 'join', room: state.room });
    ws.onmessage = onMessage;
    ws.onclose = (e) => {
      log(`channel closed (${e.code}${e.reason ? ' ' + e.reason : ''})`);
      ws = null;
      state.joined = false;
      dropAll();
      if (inRoom) {
        setStatus('disconnected, retrying…');
        setTimeout(() => { if (inRoom && !ws) connect(); }, RECONNECT_MS);
      }
    };
  }

  async function join(room) {
    if (!localStream) {
      try {
        localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
        $('local').srcObject = localStream;
      } catch (e) {
        setStatus(`no camera: ${e.message}`);
        log(`getUserMedia: ${e.message}`);
        if (opt.peers) return;
      }
    }
    inRoom = true;
    state.room = room;
    history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(params), room })}`);
    if (!ws) {
      connect();
    } else if (ws.readyState === WebSocket.OPEN) {
      if (state.joined) send({ type: 'leave' });
      dropAll();
      send({ type: 'join', room });
    }
  }

  function leave() {
    inRoom = false;
    send({ type: 'leave' });
    dropAll();
    $('leave').disabled = true;
  }

  async function pollStats() {
    for (const r of remotes.values()) await r.pollStats().catch(() => {});
  }

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    join($('room').value.trim());
  });
  $('leave').addEventListener('click', leave);
  setInterval(pollStats, STATS_INTERVAL_MS);
  if (opt.room) {
    $('room').value = opt.room;
    join(opt.room);
  }
})();
