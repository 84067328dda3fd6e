package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

func (m *Main) tokenCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "token",
		Short: "Issue, list and revoke API tokens (admin)",
	}
	c.AddCommand(m.tokenIssueCommand(), m.tokenListCommand(), m.tokenRevokeCommand())
	return c
}

func (m *Main) tokenIssueCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "issue --name <name> --role <role>",
		Short: "Issue a token; its secret is shown once",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	name := fs.String("name", "", "who the token is for")
	role := fs.String("role", "", "admin, office, reporter, auditor or analyst")
	deps := fs.StringArray("department", nil, "a department the reporter reports for (repeat the flag for each)")
	unit := fs.String("unit", "", "scope the token to this unit's subtree (default: the whole hierarchy)")
	var ttl, grace time.Duration
	fs.Var((*lifetimeFlag)(&ttl), "expires-in", "the token's lifetime, e.g. 30d or 720h (default: the server's --token-ttl; at most its --token-max-ttl)")
	fs.Var((*lifetimeFlag)(&ttl), "ttl", "same as --expires-in")
	rotate := fs.Bool("rotate", false, "the name already has a token: issue a new one and retire the old")
	fs.Var((*lifetimeFlag)(&grace), "grace", "with --rotate: the old token keeps working this long (default: revoked at once)")
	newClient := m.clientFlags(fs)
	_ = c.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"admin", "office", "reporter", "auditor", "analyst"}, cobra.ShellCompDirectiveNoFileComp))
	c.RunE = func(c *cobra.Command, _ []string) error {
		if (ttl > 0 && ttl < time.Second) || (grace > 0 && grace < time.Second) {
			return usageErrorf(c, "--expires-in and --grace count whole seconds")
		}
		var departments []string // null when none, as the API has it
		if len(*deps) > 0 {
			departments = *deps
		}
		body := map[string]any{"name": *name, "role": *role, "departments": departments}
		if *unit != "" {
			body["unit"] = *unit
		}
		if ttl != 0 {
			body["expires_in"] = int64(ttl / time.Second)
		}
		if *rotate {
			body["rotate"] = true
		}
		if grace != 0 {
			body["rotate_grace"] = int64(grace / time.Second)
		}
		return m.tokenCall(c, newClient(), "POST", "/v1/tokens", body)
	}
	return c
}

func (m *Main) tokenListCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (never their secrets)",
		Args:  exactArgs(0),
	}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, _ []string) error {
		return m.tokenCall(c, newClient(), "GET", "/v1/tokens", nil)
	}
	return c
}

func (m *Main) tokenRevokeCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "revoke <token-id>",
		Short: "Revoke a token at once",
		Args:  exactArgs(1),
	}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, args []string) error {
		cl := newClient()
		if err := cl.do(c.Context(), "DELETE", "/v1/tokens/"+url.PathEscape(args[0]), nil, nil); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, map[string]any{"revoked": args[0]}, func() { fmt.Fprintf(m.Stdout, "revoked %s\n", args[0]) })
	}
	return c
}

func (m *Main) tokenCall(c *cobra.Command, cl *client, method, path string, body any) error {
	var out json.RawMessage
	if err := cl.do(c.Context(), method, path, body, &out); err != nil {
		return err
	}
	if cl.asJSON {
		return m.printIndented(out)
	}
	return m.printGeneric(out)
}
