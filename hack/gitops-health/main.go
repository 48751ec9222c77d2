// Command gitops-health judges one Kubernetes object the way GitOps tools do and prints both verdicts as JSON:
//   - Argo CD: a health.lua script run on gopher-lua, set up as Argo CD sets up a user-configured script
//     (only the base, package and table libraries; the object as the global `obj`; a table returned);
//   - Flux / kpt: kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status).
//
// stdin: {"lua": "<health script>", "object": {...}}. stdout: {"argocd": {...}, "kstatus": {...}}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type input struct {
	Lua    string          `json:"lua"`
	Object json.RawMessage `json:"object"`
}

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(1)
	}
}

func run() error {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	// unstructured decodes as the API machinery does: whole numbers become int64, as in Argo CD's cache.
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(in.Object); err != nil {
		return fmt.Errorf("decoding object: %w", err)
	}
	argo, err := argoHealth(obj.Object, in.Lua)
	if err != nil {
		return fmt.Errorf("argo cd health script: %w", err)
	}
	computed, err := status.Compute(obj)
	if err != nil {
		return fmt.Errorf("kstatus: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]verdict{
		"argocd":  argo,
		"kstatus": {Status: computed.Status.String(), Message: computed.Message},
	})
}

func argoHealth(object map[string]interface{}, script string) (verdict, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return verdict{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return verdict{}, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return verdict{}, fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	out := verdict{Status: lua.LVAsString(table.RawGetString("status")), Message: lua.LVAsString(table.RawGetString("message"))}
	switch out.Status {
	case "Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown":
		return out, nil
	}
	// Argo CD shows an invalid status code as Unknown.
	return verdict{Status: "Unknown", Message: "Lua returned an invalid health status: " + out.Status}, nil
}

// toLua converts decoded JSON into Lua values: objects and arrays become tables (arrays 1-based), numbers LNumber.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []interface{}:
		table := l.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(l, item))
		}
		return table
	case map[string]interface{}:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, toLua(l, item))
		}
		return table
	}
	return lua.LNil
}
