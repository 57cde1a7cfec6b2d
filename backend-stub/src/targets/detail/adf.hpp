// Atlassian Document Format, what Jira Cloud's REST API v3 takes for descriptions and
// comments, from the Markdown that ticket_text.hpp writes. Internal to
// warden_sink_targets (jira.cpp), declared apart to be tested on its own.
//
//   std::string adf = detail::markdown_to_adf("**Level:** fatal  \nSee <https://x.test>");
//   // {"type":"doc","version":1,"content":[{"type":"paragraph","content":[
//   //   {"type":"text","text":"Level:","marks":[{"type":"strong"}]},
//   //   {"type":"text","text":" fatal"},{"type":"hardBreak"},{"type":"text","text":"See "},
//   //   {"type":"text","text":"https://x.test","marks":[{"type":"link",...}]}]}]}
#pragma once

#include <string>
#include <string_view>

namespace warden::sink::detail {

/// `markdown` as an Atlassian Document Format document, compact JSON
/// {"type":"doc","version":1,"content":[...]}: what Jira v3 takes for descriptions and
/// comments. Knows what ticket_text.hpp writes: paragraphs (each line break in one is a
/// hardBreak), **strong**, `code` spans, fenced code blocks (codeBlock, with the info
/// string as language), "- " and "* " bullet lists, [text](url), <url> and bare http(s)
/// URLs (link marks), backslash escapes. Anything else stays text. Never writes an empty
/// text node, which Jira refuses.
[[nodiscard]] std::string markdown_to_adf(std::string_view markdown);

}  // namespace warden::sink::detail
