// Package chattext makes the text xbr posts to a chat safe for it. Replies and
// reports quote VM, copy and backup names and error texts, which come from
// XAPI and the remotes: anyone who can name a VM writes them. Unescaped, a
// name would notify a whole channel or show a disguised link.
package chattext

import "strings"

// slack turns Slack's control characters into the entities its formatting
// reference asks for: "<...>" is a link or a mention (<!channel>) even inside
// a code block, and Slack's client shows the entities as the characters.
var slack = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// mattermost breaks what Mattermost's markdown would make of a name: a
// zero-width space after "@" ends a mention's word (@channel, @here, @all,
// @user), and one between "]" and "(" or ":" ends an inline link or image
// and a link definition. The text reads the same; code spans and bold stay.
var mattermost = strings.NewReplacer("@", "@\u200b", "](", "]\u200b(", "]:", "]\u200b:")

// Slack is s escaped for a Slack message.
func Slack(s string) string { return slack.Replace(s) }

// Mattermost is s with its mentions and markdown links defused.
func Mattermost(s string) string { return mattermost.Replace(s) }
