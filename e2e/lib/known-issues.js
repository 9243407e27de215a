// known-issues.js lists disagreements between jinglegate and StanzaJS that
// are understood and reported to the translator's owner. A check whose only
// failures match known issues is reported as TODO (it does not fail the
// run); any other failure fails it. stanza.test.js also fails when a known
// issue no longer occurs anywhere, so that fixed entries get removed.
//
// dir: 'jg->stanza' (StanzaJS reads jinglegate's Jingle) or 'stanza->jg'
// (jinglegate reads StanzaJS's Jingle). match is tested against each
// failure line: a Chromium error, or one difference from lib/sdp.js diff()
// such as 'mid 1 ssrcs: ["1","2"] -> ["1"]'.
export const knownIssues = [
  {
    id: 'ssrc-group-without-source',
    dir: 'stanza->jg',
    // The Chromium error, and the RTX ssrc missing from the a=ssrc lines.
    match: /Failed to add remote stream ssrc|^mid \S+ ssrcs: /,
    reason: 'StanzaJS sends one <source/> (the primary ssrc) plus <ssrc-group semantics="FID"> naming the RTX ssrc too; jinglegate writes a=ssrc-group:FID for both but a=ssrc only for the first, and Chromium rejects the SDP ("Failed to add remote stream ssrc"). jinglegate should write an a=ssrc line (cname of the group) for every ssrc of a group, or drop the group.',
  },
  {
    id: 'fmtp-name-only-parameter',
    dir: 'stanza->jg',
    match: /^mid \S+ fmtp: .* -> .*"\d+ [^"]*\d+\/\d+="/,
    reason: 'StanzaJS writes a key-less fmtp value (RED "111/111") as <parameter name="111/111"/> without value; jinglegate turns it into "a=fmtp:63 111/111=" instead of "a=fmtp:63 111/111".',
  },
  {
    id: 'fmtp-empty-name-parameter',
    dir: 'jg->stanza',
    match: /^mid \S+ fmtp: .* -> .*undefined=/,
    reason: 'jinglegate writes a key-less fmtp value (RED "111/111") as <parameter name="" value="111/111"/>; StanzaJS reads that as "undefined=111/111". StanzaJS\'s own convention is <parameter name="111/111"/> (MongooseIM uses <parameter value="0-15"/>).',
  },
  {
    id: 'no-description-ssrc',
    dir: 'jg->stanza',
    match: /^mid \S+ (ssrcs|ssrcGroups): /,
    reason: 'StanzaJS builds its RTP encodings (and so its ssrc-group and RTX ssrc lines) only from the ssrc attribute of <description/> (XEP-0167), which jinglegate does not write: StanzaJS keeps the first <source/> and loses the RTX ssrc and a=ssrc-group:FID of video. Chromium still accepts the SDP.',
  },
];
