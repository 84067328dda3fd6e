package main

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"kpitrail/httpapi"
)

// The domain commands' flags are described by the OpenAPI document, the
// one place their fields are documented: each flag takes the description
// of its property in the schema of the command's body (or, for a property
// that is only a reference, the first sentence of what it refers to).

type schemaNode = map[string]any

var openAPI = sync.OnceValue(func() schemaNode {
	var doc schemaNode
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		panic("httpapi's embedded openapi.json does not parse: " + err.Error())
	}
	return doc
})

func child(n schemaNode, keys ...string) schemaNode {
	for _, k := range keys {
		next, _ := n[k].(schemaNode)
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func text(n schemaNode, key string) string {
	s, _ := n[key].(string)
	return s
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// deref follows a $ref, or the $ref of a property written as allOf of one
// reference (how a property adds its own description to a shared type).
func deref(n schemaNode) schemaNode {
	for range 8 {
		ref := text(n, "$ref")
		if ref == "" {
			if all, _ := n["allOf"].([]any); len(all) == 1 {
				if one, ok := all[0].(schemaNode); ok {
					ref = text(one, "$ref")
				}
			}
		}
		if ref == "" {
			return n
		}
		target := child(openAPI(), strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
		if target == nil {
			return n
		}
		n = target
	}
	return n
}

// commandDoc is what the document says about one domain command.
type commandDoc struct {
	summary  string
	schema   schemaNode
	required []string
}

// commandDocOf finds a command's body schema: by convention its
// description starts with the command's name ("task.register", or
// "indicator.report_figure. …"). The summary is that of the per-command
// route that takes it, without the trailing "(name)".
func commandDocOf(name string) commandDoc {
	var d commandDoc
	for key, v := range child(openAPI(), "components", "schemas") {
		s, _ := v.(schemaNode)
		desc := text(s, "description")
		if desc != name && !strings.HasPrefix(desc, name+".") && !strings.HasPrefix(desc, name+" ") {
			continue
		}
		d.schema = s
		d.required = strs(s["required"])
		ref := "#/components/schemas/" + key
		// The ids a path gives the per-command route are required of
		// POST /v1/commands/{name}, which the CLI sends.
		alts, _ := child(openAPI(), "components", "schemas", "AnyCommand")["anyOf"].([]any)
		for _, alt := range alts {
			a, _ := alt.(schemaNode)
			all, _ := a["allOf"].([]any)
			if len(all) != 2 {
				continue
			}
			first, _ := all[0].(schemaNode)
			second, _ := all[1].(schemaNode)
			if text(first, "$ref") == ref {
				d.required = append(d.required, strs(second["required"])...)
			}
		}
		for _, item := range child(openAPI(), "paths") {
			ops, _ := item.(schemaNode)
			for _, op := range ops {
				o, _ := op.(schemaNode)
				if text(child(o, "requestBody", "content", "application/json", "schema"), "$ref") == ref {
					d.summary = strings.TrimSpace(strings.TrimSuffix(text(o, "summary"), "("+name+")"))
				}
			}
		}
	}
	return d
}

// fieldDoc describes one field, by its dotted path (window.year), for a
// flag's help: the description, the values an enum allows, and whether
// the command requires it.
func (d commandDoc) fieldDoc(path string) (desc string, enum []string, required bool) {
	parts := strings.Split(path, ".")
	node := d.schema
	required = true
	for i, p := range parts {
		prop := child(node, "properties", p)
		if prop == nil {
			return "", nil, false
		}
		// A nested field is required when it is required of its object
		// and the object of the command.
		if i == 0 {
			required = slices.Contains(d.required, p)
		} else {
			required = required && slices.Contains(strs(node["required"]), p)
		}
		target := deref(prop)
		if i < len(parts)-1 {
			node = target
			continue
		}
		desc = text(prop, "description")
		if desc == "" {
			desc = firstSentence(text(target, "description"))
		}
		enum = strs(prop["enum"])
		if len(enum) == 0 {
			enum = strs(target["enum"])
		}
		if items := child(target, "items"); len(enum) == 0 && items != nil {
			enum = strs(deref(items)["enum"])
		}
	}
	return desc, enum, required
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
