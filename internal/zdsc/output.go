package zdsc

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	zendesk "github.com/sideconv/zendesk"
)

// Select Graphic Rendition codes, used only on terminals without NO_COLOR.
const (
	sgrBold  = "\x1b[1m"
	sgrGreen = "\x1b[32m"
	sgrGrey  = "\x1b[90m"
	sgrReset = "\x1b[0m"
)

// table is output for people: a header and rows of cells.
type table struct {
	header []string
	rows   [][]string
	// limit is how many characters of a column's cells a terminal shows
	// (0: all); through a pipe every cell is printed whole.
	limit []int
	// style gives the colour of a cell, or "".
	style func(col int, cell string) string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// printTable prints t on stdout, aligned in columns two spaces apart.
func (a *app) printTable(t *table) error {
	terminal := a.env.StdoutTerminal
	colour := a.colour(terminal)
	rows := append([][]string{t.header}, t.rows...)
	cells := make([][]string, len(rows))
	widths := make([]int, len(t.header))
	for i, row := range rows {
		cells[i] = make([]string, len(t.header))
		for j := range t.header {
			var c string
			if j < len(row) {
				c = safeLine(row[j])
			}
			if terminal && j < len(t.limit) && t.limit[j] > 0 {
				c = truncate(c, t.limit[j])
			}
			cells[i][j] = c
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for i, row := range cells {
		// An empty last cell leaves no padding behind.
		for len(row) > 1 && row[len(row)-1] == "" {
			row = row[:len(row)-1]
		}
		for j, c := range row {
			last := j == len(row)-1
			code := ""
			switch {
			case !colour:
			case i == 0:
				code = sgrBold
			case t.style != nil:
				code = t.style(j, c)
			}
			if code != "" {
				b.WriteString(code + c + sgrReset)
			} else {
				b.WriteString(c)
			}
			if !last {
				b.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(a.env.Stdout, b.String())
	return err
}

// sayf prints one line for people on stdout, made safe by safeLine: the
// one-line answers of the commands, which quote Zendesk's text.
func (a *app) sayf(format string, args ...any) {
	fmt.Fprintln(a.env.Stdout, safeLine(fmt.Sprintf(format, args...)))
}

// printFields prints label/value pairs, one per line, values aligned.
func (a *app) printFields(fields [][2]string) error {
	colour := a.colour(a.env.StdoutTerminal)
	width := 0
	for _, f := range fields {
		width = max(width, utf8.RuneCountInString(f[0]))
	}
	var b strings.Builder
	for _, f := range fields {
		label := f[0] + strings.Repeat(" ", width-utf8.RuneCountInString(f[0])+2)
		if colour {
			label = sgrBold + f[0] + sgrReset + strings.Repeat(" ", width-utf8.RuneCountInString(f[0])+2)
		}
		b.WriteString(label + safeLine(f[1]) + "\n")
	}
	_, err := io.WriteString(a.env.Stdout, b.String())
	return err
}

// stateStyle colours the state column of a table.
func stateStyle(stateCol int) func(int, string) string {
	return func(col int, cell string) string {
		if col != stateCol {
			return ""
		}
		switch zendesk.State(cell) {
		case zendesk.StateOpen:
			return sgrGreen
		case zendesk.StateClosed:
			return sgrGrey
		}
		return ""
	}
}

// truncate shortens s to n characters, the last one an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// printJSON prints one value as an indented JSON object.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.env.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLines returns an encoder of one compact JSON value per line.
func jsonLines(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// participantText writes a participant the way --to takes it, with the
// name of a person when there is one.
func participantText(p zendesk.Participant) string {
	switch p.Channel() {
	case zendesk.ChannelSlack:
		s := "slack:" + p.SlackWorkspaceID + "/" + p.SlackChannelID
		if p.Name != "" {
			s = p.Name + " (" + s + ")"
		}
		return s
	case zendesk.ChannelChildTicket:
		s := "group:" + strconv.FormatInt(p.SupportGroupID, 10)
		if p.SupportAgentID != 0 {
			s += "/agent:" + strconv.FormatInt(p.SupportAgentID, 10)
		}
		return s
	case zendesk.ChannelMSTeams:
		return "teams:" + p.MSTeamsChannelID
	case zendesk.ChannelEmail:
		switch {
		case p.Email != "" && p.Name != "":
			return p.Name + " <" + p.Email + ">"
		case p.Email != "":
			return p.Email
		case p.Name != "":
			return p.Name + " (agent:" + strconv.FormatInt(p.UserID, 10) + ")"
		default:
			return "agent:" + strconv.FormatInt(p.UserID, 10)
		}
	}
	return p.Name
}

func participantsText(ps []zendesk.Participant) string {
	return joinParticipants(ps, participantText)
}

// participantNames is the short form of a list: people by name.
func participantNames(ps []zendesk.Participant) string {
	return joinParticipants(ps, func(p zendesk.Participant) string {
		if p.Name != "" && p.Channel() == zendesk.ChannelEmail {
			return p.Name
		}
		return participantText(p)
	})
}

func joinParticipants(ps []zendesk.Participant, text func(zendesk.Participant) string) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		if t := text(p); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, ", ")
}

// channelOf names the kind of a side conversation: child_ticket, slack,
// msteams or email. Every conversation has an agent among its
// participants, an e-mail participant, so the other kinds win.
func channelOf(sc zendesk.SideConversation) zendesk.Channel {
	if _, ok := sc.ChildTicketID(); ok {
		return zendesk.ChannelChildTicket
	}
	for _, p := range sc.Participants {
		if c := p.Channel(); c != zendesk.ChannelEmail && c != "" {
			return c
		}
	}
	return zendesk.ChannelEmail
}

// timeText writes a time for people, in UTC to the minute.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// eventSummary says in a line what an event did.
func eventSummary(ev zendesk.Event) string {
	if m := ev.Message; m != nil {
		// Zendesk's preview_text of a message may be its subject: the
		// body says more.
		for _, text := range []string{m.Body, m.PreviewText, m.Subject} {
			if strings.TrimSpace(text) != "" {
				return strings.Join(strings.Fields(text), " ")
			}
		}
		return ""
	}
	var parts []string
	if ev.Updates.State != "" {
		parts = append(parts, "state: "+string(ev.Updates.State))
	}
	if ev.Updates.Subject != "" {
		parts = append(parts, fmt.Sprintf("subject: %q", ev.Updates.Subject))
	}
	return strings.Join(parts, ", ")
}

// eventSender is who wrote an event's message, else its actor.
func eventSender(ev zendesk.Event) string {
	p := ev.Actor
	if ev.Message != nil && ev.Message.From != (zendesk.Participant{}) {
		p = ev.Message.From
	}
	return participantNames([]zendesk.Participant{p})
}

func attachmentNames(m *zendesk.Message) string {
	if m == nil {
		return ""
	}
	names := make([]string, len(m.Attachments))
	for i, att := range m.Attachments {
		names[i] = att.FileName
	}
	return strings.Join(names, ", ")
}

// eventsTable lays events out for people.
func eventsTable(events []zendesk.Event) *table {
	t := &table{
		header: []string{"TIME", "TYPE", "FROM", "MESSAGE", "ATTACHMENTS"},
		limit:  []int{0, 0, 30, 60, 40},
	}
	for _, ev := range events {
		t.add(timeText(ev.CreatedAt), string(ev.Type), eventSender(ev), eventSummary(ev), attachmentNames(ev.Message))
	}
	return t
}
