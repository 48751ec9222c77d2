// Command alertmanager-config renders an AlertmanagerConfig (monitoring.coreos.com/v1alpha1) into the
// Alertmanager configuration the Prometheus Operator would generate from it, with the operator's own code
// (pkg/alertmanager's ConfigBuilder), so that `amtool check-config` and `amtool config routes test` can judge
// what the chart ships. Used by test/integration/observability/alertmanager-configs.test.ts.
//
// Usage: alertmanager-config <alertmanager namespace> <alertmanagerConfigMatcherStrategy> < alertmanagerconfig.yaml
// The base configuration is a catch-all "null" receiver; receivers must not reference Secrets (none is read).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/blang/semver/v4"
	"github.com/prometheus-operator/prometheus-operator/pkg/alertmanager"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus-operator/prometheus-operator/pkg/assets"
	"sigs.k8s.io/yaml"
)

// The Alertmanager version the tests run (Debian's prometheus-alertmanager): the builder emits syntax for it.
const alertmanagerVersion = "0.25.0"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: alertmanager-config <alertmanager namespace> <matcher strategy> < alertmanagerconfig.yaml")
		os.Exit(2)
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var config monitoringv1alpha1.AlertmanagerConfig
	if err := yaml.UnmarshalStrict(in, &config); err != nil {
		fail(err)
	}
	am := &monitoringv1.Alertmanager{}
	am.Namespace = os.Args[1]
	am.Spec.AlertmanagerConfigMatcherStrategy.Type = monitoringv1.AlertmanagerConfigMatcherStrategyType(os.Args[2])
	builder := alertmanager.NewConfigBuilder(slog.Default(), semver.MustParse(alertmanagerVersion), assets.NewTestStoreBuilder(), am)
	if err := builder.InitializeFromRawConfiguration([]byte("route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")); err != nil {
		fail(err)
	}
	key := config.Namespace + "/" + config.Name
	if err := builder.AddAlertmanagerConfigs(context.Background(), map[string]*monitoringv1alpha1.AlertmanagerConfig{key: &config}); err != nil {
		fail(err)
	}
	out, err := builder.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
