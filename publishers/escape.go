package publishers

import "strings"

// EscapeText writes &, < and > as entities: the escaping that plain text
// needs in HTML, in Slack's mrkdwn (where <!channel> and <url|label> are
// control sequences) and in Statuspage's incident names. Each venue shows
// the entities as the characters they stand for.
func EscapeText(s string) string { return textEscaper.Replace(s) }

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// NeutralizeShortcodes writes every "[" of HTML as "&#91;", which browsers
// show (and read in attribute values) as "[", but WordPress's shortcode
// parser does not see: text a person typed can never run a shortcode
// ([embed], [contact-form], a plugin's own) on a WordPress site.
func NeutralizeShortcodes(html string) string { return strings.ReplaceAll(html, "[", "&#91;") }
