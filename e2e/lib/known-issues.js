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
//
// None is known today. The four found first (StanzaJS's ssrc-group members
// without <source/>, the two conventions for key-less fmtp parameters, and
// the ssrc attribute of <description/>) were fixed in sdpxlate; see its
// TestSourceCompletion, TestKeylessFmtp and TestDescriptionSSRC.
export const knownIssues = [];
