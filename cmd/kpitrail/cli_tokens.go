package main

import (
	"context"
	"flag"
	"fmt"
	"time"
)

func (m *Main) runToken(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "issue" && args[0] != "list" && args[0] != "revoke") {
		return fmt.Errorf("usage: kpitrail token issue --name N --role R [--department D ...] [--unit U] [--expires-in D] [--rotate [--grace D]] | list | revoke ID")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	name := fs.String("name", "", "who the token is for")
	role := fs.String("role", "", "admin, office, reporter, auditor or analyst")
	var deps multiFlag
	fs.Var(&deps, "department", "a department the reporter reports for (repeatable)")
	unit := fs.String("unit", "", "scope the token to this unit's subtree (default: the whole hierarchy)")
	var ttl, grace time.Duration
	fs.Var((*lifetimeFlag)(&ttl), "expires-in", "the token's lifetime, e.g. 30d or 720h (default: the server's --token-ttl; at most its --token-max-ttl)")
	fs.Var((*lifetimeFlag)(&ttl), "ttl", "same as --expires-in")
	rotate := fs.Bool("rotate", false, "the name already has a token: issue a new one and retire the old")
	fs.Var((*lifetimeFlag)(&grace), "grace", "with --rotate: the old token keeps working this long (default: revoked at once)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (ttl > 0 && ttl < time.Second) || (grace > 0 && grace < time.Second) {
		return fmt.Errorf("--expires-in and --grace count whole seconds")
	}
	c := newClient()
	var out any
	var err error
	switch args[0] {
	case "issue":
		body := map[string]any{"name": *name, "role": *role, "departments": []string(deps)}
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
		err = c.do(ctx, "POST", "/v1/tokens", body, &out)
	case "list":
		err = c.do(ctx, "GET", "/v1/tokens", nil, &out)
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("revoke needs the token id")
		}
		err = c.do(ctx, "DELETE", "/v1/tokens/"+fs.Arg(0), nil, nil)
	}
	if err != nil || out == nil {
		return err
	}
	return m.printJSONOr(true, out, nil)
}
