package zdsc

import (
	"context"
	"fmt"

	zendesk "github.com/sideconv/zendesk"
)

var listCommand = &command{
	name:    "list",
	args:    "TICKET",
	summary: "list the side conversations of a ticket",
	about: `
List the side conversations of a ticket: id, state, subject, channel
(email, slack, child_ticket, msteams), participants and the time of the
last message. One page (up to 100) unless --all, which walks every page;
the table is printed once the last page is in, so that its columns line
up. With --json, one side conversation per line, printed as its page
comes.`,
	flags: `
--all          every page, not just the first
--page N       the page to print (from 1)
--per-page N   side conversations per page, 1 to 100`,
	examples: `
zdsc --demo list 1
zdsc --demo list 1 --per-page 2 --json
zdsc list 4711 --all --json > conversations.jsonl`,
	fieldFlags: [][2]string{{"page", "--page"}, {"per_page", "--per-page"}},
	run:        runList,
}

func runList(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("list")
	all := fs.Bool("all", false, "")
	page := fs.Int("page", 0, "")
	perPage := fs.Int("per-page", 0, "")
	_, ticket, err := a.parseTicket(fs, args)
	if err != nil {
		return err
	}
	if *all && *page != 0 {
		return usagef(a.cmd, "--all and --page exclude each other")
	}
	opts := &zendesk.ListOptions{Page: *page, PerPage: *perPage}
	if err := opts.Validate(); err != nil {
		return err
	}
	client, err := a.client(ctx)
	if err != nil {
		return err
	}
	sc := client.SideConversations

	t := conversationsTable()
	var enc interface{ Encode(any) error }
	if a.g.json {
		enc = jsonLines(a.env.Stdout)
	}
	emit := func(c zendesk.SideConversation) error {
		if enc != nil {
			return enc.Encode(c)
		}
		addConversation(t, c)
		return nil
	}

	next := ""
	if *all {
		for c, err := range sc.ListIter(ctx, ticket, opts) {
			if err != nil {
				return err
			}
			if err := emit(c); err != nil {
				return err
			}
		}
	} else {
		convs, resp, err := sc.List(ctx, ticket, opts)
		if err != nil {
			return err
		}
		for _, c := range convs {
			if err := emit(c); err != nil {
				return err
			}
		}
		next = resp.NextPage
	}
	if enc == nil {
		switch {
		case len(t.rows) == 0 && *page > 1:
			fmt.Fprintf(a.env.Stderr, "zdsc list: page %d of ticket %d is empty\n", *page, ticket)
		case len(t.rows) == 0:
			fmt.Fprintf(a.env.Stderr, "zdsc list: ticket %d has no side conversations\n", ticket)
		default:
			if err := a.printTable(t); err != nil {
				return err
			}
		}
	}
	if next != "" {
		following := max(*page, 1) + 1
		fmt.Fprintf(a.env.Stderr, "zdsc list: more on page %d (--page %d), or use --all\n", following, following)
	}
	return nil
}

func conversationsTable() *table {
	return &table{
		header: []string{"ID", "STATE", "SUBJECT", "CHANNEL", "PARTICIPANTS", "LAST MESSAGE"},
		limit:  []int{0, 0, 40, 0, 48, 0},
		style:  stateStyle(1),
	}
}

func addConversation(t *table, c zendesk.SideConversation) {
	t.add(c.ID, string(c.State), c.Subject, string(channelOf(c)), participantNames(c.Participants), timeText(c.MessageAddedAt))
}
