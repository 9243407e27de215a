// sdp.js reads the parts of an SDP that a translation must keep, so that two
// SDPs of one session can be compared by meaning rather than by text.

// summarize returns the session's BUNDLE groups and, per m-section: kind,
// mid, whether it is rejected (port 0), direction, DTLS setup and
// fingerprints, ICE credentials, codecs ("pt name/rate[/channels]"), ssrcs,
// ssrc-groups, sctp-port and the number of candidates. Session-level
// values apply to m-sections that do not override them.
export function summarize(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const session = { attrs: [] };
  const sections = [];
  let cur = session;
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const [kind, port, proto, ...fmts] = l.slice(2).split(/\s+/);
      cur = { kind, port: Number(port), proto, fmts, attrs: [] };
      sections.push(cur);
    } else if (l.startsWith('a=')) {
      const i = l.indexOf(':');
      cur.attrs.push(i < 0 ? [l.slice(2), ''] : [l.slice(2, i), l.slice(i + 1)]);
    }
  }
  const all = (attrs, k) => attrs.filter(([key]) => key === k).map(([, v]) => v);
  const one = (attrs, k) => all(attrs, k)[0];
  const dirs = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
  const groups = all(session.attrs, 'group').map((v) => v.trim().split(/\s+/));
  return {
    bundle: groups.filter((g) => g[0] === 'BUNDLE').map((g) => g.slice(1)),
    sections: sections.map((s) => {
      const rtpmap = new Map(all(s.attrs, 'rtpmap').map((v) => {
        const [pt, enc] = v.split(/\s+/);
        return [pt, enc];
      }));
      // fmtp parameters per payload type, "pt k=v;k=v" with keys sorted (a
      // value without a key, as in red's "111/111", stays as it is).
      const fmtp = all(s.attrs, 'fmtp').map((v) => {
        const i = v.search(/\s/);
        const pt = i < 0 ? v : v.slice(0, i);
        const params = i < 0 ? [] : v.slice(i + 1).split(';').map((p) => p.trim()).filter(Boolean).sort();
        return `${pt} ${params.join(';')}`;
      }).sort();
      const rtcpFb = all(s.attrs, 'rtcp-fb').map((v) => v.trim().split(/\s+/).join(' ')).sort();
      const extmap = all(s.attrs, 'extmap').map((v) => v.trim().split(/\s+/).join(' ')).sort();
      const ssrcs = [...new Set(all(s.attrs, 'ssrc').map((v) => v.split(/\s+/)[0]))].sort();
      return {
        kind: s.kind,
        mid: one(s.attrs, 'mid') ?? null,
        rejected: s.port === 0 && !s.attrs.some(([k]) => k === 'bundle-only'),
        direction: dirs.find((d) => s.attrs.some(([k]) => k === d)) ?? dirs.find((d) => session.attrs.some(([k]) => k === d)) ?? 'sendrecv',
        setup: one(s.attrs, 'setup') ?? one(session.attrs, 'setup') ?? null,
        fingerprints: (all(s.attrs, 'fingerprint').length ? all(s.attrs, 'fingerprint') : all(session.attrs, 'fingerprint'))
          .map((v) => { const [h, f] = v.trim().split(/\s+/); return `${h.toLowerCase()} ${f.toUpperCase()}`; }).sort(),
        ufrag: one(s.attrs, 'ice-ufrag') ?? one(session.attrs, 'ice-ufrag') ?? null,
        pwd: one(s.attrs, 'ice-pwd') ?? one(session.attrs, 'ice-pwd') ?? null,
        // "opus/48000/2" and "g722/8000" ("/1", one channel, is the default).
        codecs: s.kind === 'application' ? [] : s.fmts.map((pt) => `${pt} ${(rtpmap.get(pt) ?? '').toLowerCase().replace(/\/1$/, '')}`),
        fmtp,
        rtcpFb,
        extmap,
        ssrcs,
        ssrcGroups: all(s.attrs, 'ssrc-group').map((v) => v.trim().split(/\s+/).join(' ')).sort(),
        // a=sctp-port, or the port of the legacy a=sctpmap:5000 webrtc-datachannel.
        sctpPort: one(s.attrs, 'sctp-port') ?? one(s.attrs, 'sctpmap')?.split(/\s+/)[0] ?? null,
        candidates: all(s.attrs, 'candidate').length,
      };
    }),
  };
}

export const defaultFields = ['kind', 'mid', 'rejected', 'direction', 'setup', 'fingerprints', 'ufrag', 'pwd', 'codecs', 'fmtp', 'rtcpFb', 'extmap', 'ssrcs', 'ssrcGroups', 'sctpPort', 'candidates'];

// diff lists, one string each, where summary b differs from summary a in
// the BUNDLE groups or in the given fields of the m-sections, which are
// paired by mid (by position when there is no mid).
export function diff(a, b, fields = defaultFields) {
  const out = [];
  const j = (v) => JSON.stringify(v);
  if (j(a.bundle) !== j(b.bundle)) out.push(`BUNDLE ${j(a.bundle)} -> ${j(b.bundle)}`);
  // Pair m-sections by mid, or by position when one side lacks mids.
  const byMid = a.sections.every((s) => s.mid !== null) && b.sections.every((s) => s.mid !== null);
  const key = (s, i) => (byMid ? `mid ${s.mid}` : `m-section ${i + 1}`);
  const bm = new Map(b.sections.map((s, i) => [key(s, i), s]));
  const am = new Set(a.sections.map((s, i) => key(s, i)));
  a.sections.forEach((s, i) => {
    const k = key(s, i);
    const t = bm.get(k);
    if (!t) {
      out.push(`${k} (${s.kind}) missing`);
      return;
    }
    for (const f of fields) {
      if (j(s[f]) !== j(t[f])) out.push(`${k} ${f}: ${j(s[f])} -> ${j(t[f])}`);
    }
  });
  b.sections.forEach((s, i) => {
    if (!am.has(key(s, i))) out.push(`${key(s, i)} (${s.kind}) added`);
  });
  return out;
}

// shape is what stays the same when Chromium captures a scenario again: the
// m-sections' kinds, mids, directions and rejection, the BUNDLE groups,
// whether there are candidates, ssrc-groups' semantics and the setup role.
export function shape(text) {
  const s = summarize(text);
  return {
    bundle: s.bundle,
    sections: s.sections.map((m) => ({
      kind: m.kind, mid: m.mid, rejected: m.rejected, direction: m.direction, setup: m.setup,
      candidates: m.candidates > 0, ssrcGroups: m.ssrcGroups.map((g) => g.split(' ')[0]),
    })),
  };
}
