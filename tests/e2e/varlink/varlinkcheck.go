// SPDX-License-Identifier: GPL-2.0-only
// varlinkcheck - skbtraced as a client nobody here wrote sees it: the varlink Go library.
//
// Usage: varlinkcheck -socket PATH [-denied]
//
// Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is 1 when
// any failed.  With -denied the caller is neither root nor in the access
// group: the only check is that its first call gets PermissionDenied.
// tests/e2e/test_varlink_go.py builds and runs it, with ICMP traffic going
// between two namespaces meanwhile.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

var failed bool

func report(name string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("FAIL %s: %v\n", name, err)
	} else {
		fmt.Printf("ok %s\n", name)
	}
}

func connect(ctx context.Context, path string) *varlink.Connection {
	c, err := varlink.NewConnection(ctx, "unix:"+path)
	if err != nil {
		fmt.Printf("FAIL connect: %v\n", err)
		os.Exit(1)
	}
	return c
}

// The name and parameters of an error reply, whatever type the library made of it.
func errorOf(err error) (string, map[string]interface{}) {
	params := map[string]interface{}{}
	switch e := err.(type) {
	case *varlink.Error:
		if raw, ok := e.Parameters.(*json.RawMessage); ok && raw != nil {
			json.Unmarshal(*raw, &params)
		}
		return e.Name, params
	case *varlink.InvalidParameter:
		params["parameter"] = e.Parameter
		return e.Error(), params
	case *varlink.MethodNotFound:
		params["method"] = e.Method
		return e.Error(), params
	case *varlink.InterfaceNotFound:
		params["interface"] = e.Interface
		return e.Error(), params
	case nil:
		return "", params
	default:
		return "unexpected " + err.Error(), params
	}
}

// A call that must fail with error name, and member key equal to value (key "" for none).
func wantError(ctx context.Context, c *varlink.Connection, method string, in interface{},
	flags uint64, name, key, value string) error {
	recv, err := c.Send(ctx, method, in, flags)
	if err != nil {
		return err
	}
	var out map[string]interface{}
	_, err = recv(ctx, &out)
	got, params := errorOf(err)
	if got != name {
		return fmt.Errorf("%s: got %q (%v), want %s", method, got, err, name)
	}
	if key != "" && fmt.Sprint(params[key]) != value {
		return fmt.Errorf("%s: %s is %v, want %q", method, key, params[key], value)
	}
	return nil
}

func checkIntrospection(ctx context.Context, c *varlink.Connection) error {
	var vendor, product, version, url string
	var ifaces []string
	if err := c.GetInfo(ctx, &vendor, &product, &version, &url, &ifaces); err != nil {
		return fmt.Errorf("GetInfo: %v", err)
	}
	if product != "skbtraced" || version == "" {
		return fmt.Errorf("GetInfo: product %q version %q", product, version)
	}
	want := map[string][]string{
		"io.skbtraced":        {"Trace", "List", "Status", "Sessions", "Stop"},
		"org.varlink.service": {"GetInfo", "GetInterfaceDescription"},
	}
	if len(ifaces) != len(want) {
		return fmt.Errorf("GetInfo: interfaces %v", ifaces)
	}
	for _, name := range ifaces {
		desc, err := c.GetInterfaceDescription(ctx, name)
		if err != nil {
			return fmt.Errorf("GetInterfaceDescription(%s): %v", name, err)
		}
		// The library's own IDL parser must take it.
		parsed, err := idl.New(desc)
		if err != nil {
			return fmt.Errorf("%s: the IDL parser refuses the description: %v", name, err)
		}
		if parsed.Name != name {
			return fmt.Errorf("%s: the description is of interface %s", name, parsed.Name)
		}
		methods := map[string]bool{}
		for _, m := range parsed.Methods {
			methods[m.Name] = true
		}
		for _, m := range want[name] {
			if !methods[m] {
				return fmt.Errorf("%s: the description lacks method %s", name, m)
			}
		}
	}
	return nil
}

// Every method without parameters, called as the library calls it: "parameters": null.
func checkPlainCalls(ctx context.Context, c *varlink.Connection) error {
	var status struct {
		Version string `json:"version"`
		Backend string `json:"backend"`
		Probes  struct {
			Attached int `json:"attached"`
		} `json:"probes"`
	}
	if err := c.Call(ctx, "io.skbtraced.Status", nil, &status); err != nil {
		return fmt.Errorf("Status: %v", err)
	}
	if status.Version == "" || status.Backend == "" || status.Probes.Attached == 0 {
		return fmt.Errorf("Status: %+v", status)
	}
	var list struct {
		Probes []struct {
			Name     string `json:"name"`
			Kind     string `json:"kind"`
			Attached bool   `json:"attached"`
		} `json:"probes"`
	}
	if err := c.Call(ctx, "io.skbtraced.List", nil, &list); err != nil {
		return fmt.Errorf("List: %v", err)
	}
	if len(list.Probes) == 0 || list.Probes[0].Name == "" || list.Probes[0].Kind == "" {
		return fmt.Errorf("List: %d probes", len(list.Probes))
	}
	var sessions struct {
		Sessions []interface{} `json:"sessions"`
	}
	if err := c.Call(ctx, "io.skbtraced.Sessions", nil, &sessions); err != nil {
		return fmt.Errorf("Sessions: %v", err)
	}
	if sessions.Sessions == nil {
		return fmt.Errorf("Sessions: no sessions array")
	}
	return nil
}

type traceReply struct {
	Started *struct {
		Session int64 `json:"session"`
		Probes  int64 `json:"probes"`
	} `json:"started"`
	Output *string `json:"output"`
	// Attach progress while the session's probes attach (attach on demand).
	Progress *struct {
		Attached int64 `json:"attached"`
		Failed   int64 `json:"failed"`
		Total    int64 `json:"total"`
		Complete bool  `json:"complete"`
	} `json:"progress"`
	Summary *struct {
		Session int64  `json:"session"`
		Events  int64  `json:"events"`
		Reason  string `json:"reason"`
	} `json:"summary"`
}

// A Trace streams: started, batches of JSON lines (and progress records while its probes
// attach), a summary that ends the stream.
func checkTrace(ctx context.Context, c *varlink.Connection, count int) error {
	params := map[string]interface{}{
		"filter": map[string]interface{}{"proto": "icmp"},
		"output": "json",
		"count":  count,
	}
	recv, err := c.Send(ctx, "io.skbtraced.Trace", params, varlink.More)
	if err != nil {
		return err
	}
	var session int64
	lines := 0
	for i := 0; ; i++ {
		var r traceReply
		flags, err := recv(ctx, &r)
		if err != nil {
			return fmt.Errorf("reply %d: %v", i, err)
		}
		switch {
		case i == 0:
			if r.Started == nil || r.Started.Session == 0 || flags&varlink.Continues == 0 {
				return fmt.Errorf("first reply is not 'started' with continues")
			}
			session = r.Started.Session
		case r.Output != nil:
			for _, l := range strings.Split(strings.TrimSuffix(*r.Output, "\n"), "\n") {
				var ev map[string]interface{}
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					return fmt.Errorf("output line %q: %v", l, err)
				}
				lines++
			}
			if flags&varlink.Continues == 0 {
				return fmt.Errorf("a batch without continues")
			}
		case r.Progress != nil:
			p := r.Progress
			if flags&varlink.Continues == 0 || p.Attached+p.Failed > p.Total ||
				(p.Complete && p.Attached+p.Failed != p.Total) {
				return fmt.Errorf("progress record %+v (continues %v)", *p,
					flags&varlink.Continues != 0)
			}
		case r.Summary != nil:
			if flags&varlink.Continues != 0 {
				return fmt.Errorf("the summary says continues")
			}
			if r.Summary.Session != session || r.Summary.Reason != "count" ||
				r.Summary.Events != int64(count) || lines != count {
				return fmt.Errorf("summary %+v after %d lines, want %d events (count)",
					*r.Summary, lines, count)
			}
			return nil
		default:
			return fmt.Errorf("reply %d is neither output nor summary", i)
		}
	}
}

func checkErrors(ctx context.Context, c *varlink.Connection) error {
	cases := []struct {
		method           string
		in               interface{}
		flags            uint64
		name, key, value string
	}{
		{"io.skbtraced.NoSuchMethod", nil, 0,
			"org.varlink.service.MethodNotFound", "method", "io.skbtraced.NoSuchMethod"},
		{"com.example.Nothing", nil, 0,
			"org.varlink.service.InterfaceNotFound", "interface", "com.example"},
		{"org.varlink.service.GetInterfaceDescription",
			map[string]interface{}{"interface": "com.example"}, 0,
			"org.varlink.service.InterfaceNotFound", "interface", "com.example"},
		{"io.skbtraced.Trace", map[string]interface{}{}, 0,
			"org.varlink.service.ExpectedMore", "", ""},
		{"io.skbtraced.Trace", map[string]interface{}{"filter": map[string]interface{}{"dport": 70000}},
			varlink.More, "org.varlink.service.InvalidParameter", "parameter", "filter.dport"},
		{"io.skbtraced.Trace", map[string]interface{}{"count": "ten"}, varlink.More,
			"org.varlink.service.InvalidParameter", "parameter", "count"},
		{"io.skbtraced.Status", map[string]interface{}{"verbose": true}, 0,
			"org.varlink.service.InvalidParameter", "parameter", "verbose"},
		{"io.skbtraced.Stop", nil, 0,
			"org.varlink.service.InvalidParameter", "parameter", "session"},
		{"io.skbtraced.Stop", map[string]interface{}{"session": 999999}, 0,
			"io.skbtraced.NoSuchSession", "parameter", "session"},
		{"io.skbtraced.Trace", map[string]interface{}{"regex": "^no_such_probe$"}, varlink.More,
			"io.skbtraced.NoMatchingProbes", "parameter", "regex"},
	}
	for _, k := range cases {
		if err := wantError(ctx, c, k.method, k.in, k.flags, k.name, k.key, k.value); err != nil {
			return err
		}
	}
	return nil
}

// Oneway calls get no reply at all, even when they fail: the next reply is the next call's.
func checkOneway(ctx context.Context, c *varlink.Connection) error {
	for _, m := range []string{"io.skbtraced.Status", "io.skbtraced.NoSuchMethod"} {
		if _, err := c.Send(ctx, m, nil, varlink.Oneway); err != nil {
			return err
		}
	}
	var info struct {
		Vendor string `json:"vendor"`
	}
	if err := c.Call(ctx, "org.varlink.service.GetInfo", nil, &info); err != nil {
		return fmt.Errorf("GetInfo after oneway calls: %v", err)
	}
	if info.Vendor == "" {
		return fmt.Errorf("the reply after oneway calls is not GetInfo's")
	}
	return nil
}

// Pipelined calls: replies come in order, each paired with its call.
func checkPipelining(ctx context.Context, c *varlink.Connection) error {
	type pending struct {
		recv func(context.Context, interface{}) (uint64, error)
		key  string
	}
	var calls []pending
	for _, m := range []struct{ method, key string }{
		{"io.skbtraced.Status", "backend"},
		{"org.varlink.service.GetInfo", "vendor"},
		{"io.skbtraced.Sessions", "sessions"},
		{"io.skbtraced.List", "probes"},
		{"org.varlink.service.GetInfo", "interfaces"},
	} {
		recv, err := c.Send(ctx, m.method, nil, 0)
		if err != nil {
			return err
		}
		calls = append(calls, pending{recv, m.key})
	}
	for i, p := range calls {
		var out map[string]interface{}
		if _, err := p.recv(ctx, &out); err != nil {
			return fmt.Errorf("reply %d: %v", i, err)
		}
		if _, ok := out[p.key]; !ok {
			return fmt.Errorf("reply %d lacks %q: replies out of order", i, p.key)
		}
	}
	return nil
}

// Refused: the daemon sends PermissionDenied at accept and closes at once (a refused
// connection must cost nothing, docs/protocol.md), so the library's call either reads that
// error or finds the socket closed when it writes (EPIPE).  The message itself is checked on
// a connection that only reads.
func checkDenied(ctx context.Context, path string) error {
	c := connect(ctx, path)
	defer c.Close()
	recv, err := c.Send(ctx, "io.skbtraced.Status", nil, 0)
	if err == nil {
		var out map[string]interface{}
		_, err = recv(ctx, &out)
		if name, _ := errorOf(err); name == "org.varlink.service.PermissionDenied" {
			err = nil
		}
	}
	if err != nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) &&
		!errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the library's call: %v", err)
	}
	raw, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	data, err := io.ReadAll(raw)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("reading the refusal: %v", err)
	}
	msg, _, found := bytes.Cut(data, []byte{0})
	var reply struct {
		Error      string `json:"error"`
		Parameters struct {
			Message string `json:"message"`
		} `json:"parameters"`
	}
	if !found || json.Unmarshal(msg, &reply) != nil ||
		reply.Error != "org.varlink.service.PermissionDenied" || reply.Parameters.Message == "" {
		return fmt.Errorf("refusal %q, want org.varlink.service.PermissionDenied with a message",
			data)
	}
	return nil
}

func main() {
	socket := flag.String("socket", "", "skbtraced's socket")
	denied := flag.Bool("denied", false, "expect PermissionDenied")
	count := flag.Int("count", 5, "events to trace")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if *denied {
		report("permission_denied", checkDenied(ctx, *socket))
	} else {
		c := connect(ctx, *socket)
		defer c.Close()
		report("introspection", checkIntrospection(ctx, c))
		report("plain_calls", checkPlainCalls(ctx, c))
		report("errors", checkErrors(ctx, c))
		report("oneway", checkOneway(ctx, c))
		report("pipelining", checkPipelining(ctx, c))
		// Last: a streamed call is alone on its connection (SessionActive otherwise).
		report("trace", checkTrace(ctx, connect(ctx, *socket), *count))
	}
	if failed {
		os.Exit(1)
	}
}
