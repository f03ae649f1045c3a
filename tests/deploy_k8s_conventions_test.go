package tests

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
)

// checkK8sConventions checks one xbr Deployment against the deployment
// conventions: liveness and readiness probes on its own health listener,
// resource requests and limits, and secrets as mounted files only.
func checkK8sConventions(t *testing.T, name string, d k8sObject, c k8sContainer, objs map[string]map[string]k8sObject) {
	t.Helper()
	where := "deployment " + name
	listen := flagValue(c.Args, "--health-listen")
	if listen == "" {
		t.Errorf("%s: no --health-listen: its probes cannot ask its own process", where)
	} else {
		checkK8sProbe(t, where+" liveness", c, c.LivenessProbe, listen, "/healthz")
		checkK8sProbe(t, where+" readiness", c, c.ReadinessProbe, listen, "/readyz")
	}
	r := c.Resources
	if r.Requests["cpu"] == "" || r.Requests["memory"] == "" || r.Limits["cpu"] == "" || r.Limits["memory"] == "" {
		t.Errorf("%s: resources %+v; want cpu and memory requests and limits", where, r)
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			t.Errorf("%s: envFrom secret %s puts secrets in the environment; mount it as a volume", where, ef.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Errorf("%s: env %s comes from a secret; mount it as a file", where, e.Name)
		}
	}
	env := k8sEnv(t, where, c, objs)
	all := map[string]string{}
	for dir, s := range mountedSecrets(t, where, d.Spec.Template.Spec, c, objs) {
		for k, v := range s.StringData {
			all[k] = v
		}
		checkSecretFileEnv(t, where, env, dir, s.StringData)
	}
	if len(all) == 0 {
		t.Errorf("%s: mounts no Secret volume: where do its credentials come from?", where)
	}
	checkNoSecretEnv(t, where, env, all)
}

// checkK8sProbe: p is an httpGet on path at the container port that
// --health-listen (listen) binds.
func checkK8sProbe(t *testing.T, where string, c k8sContainer, p *k8sProbe, listen, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no httpGet probe", where)
		return
	}
	_, want, err := net.SplitHostPort(listen)
	if err != nil {
		t.Errorf("%s: --health-listen %q: %v", where, listen, err)
		return
	}
	port := p.HTTPGet.Port
	if name, ok := port.(string); ok {
		port = k8sPort(c, name)
	}
	if fmt.Sprint(port) != want || p.HTTPGet.Path != path {
		t.Errorf("%s: probe %s on port %v; want %s on the health listener's port %s", where, p.HTTPGet.Path, p.HTTPGet.Port, path, want)
	}
}

// k8sPort is the number of c's container port called name (0 if none).
func k8sPort(c k8sContainer, name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// k8sEnv is the environment of c: its ConfigMap references and env values.
func k8sEnv(t *testing.T, where string, c k8sContainer, objs map[string]map[string]k8sObject) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		var src k8sObject
		var ok bool
		switch {
		case ef.ConfigMapRef != nil:
			src, ok = objs["ConfigMap"][ef.ConfigMapRef.Name]
		case ef.SecretRef != nil:
			src, ok = objs["Secret"][ef.SecretRef.Name]
		default:
			continue
		}
		if !ok {
			t.Fatalf("%s: envFrom names an object that is not defined", where)
		}
		for k, v := range src.Data {
			env[k] = v
		}
		for k, v := range src.StringData {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// mountedSecrets are the Secrets mounted as volumes in c, by mount path.
func mountedSecrets(t *testing.T, where string, pod k8sPod, c k8sContainer, objs map[string]map[string]k8sObject) map[string]k8sObject {
	t.Helper()
	out := map[string]k8sObject{}
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			s, ok := objs["Secret"][v.Secret.SecretName]
			if !ok {
				t.Fatalf("%s: secret %s is not defined", where, v.Secret.SecretName)
			}
			out[filepath.Clean(m.MountPath)] = s
		}
	}
	return out
}
