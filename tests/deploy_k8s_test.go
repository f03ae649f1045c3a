package tests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes object the deployment test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas    *int   `yaml:"replicas"`
		ServiceName string `yaml:"serviceName"`
		ClusterIP   string `yaml:"clusterIP"`
		Ports       []struct {
			Port       int `yaml:"port"`
			TargetPort any `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Spec k8sPod `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sPod struct {
	Containers []k8sContainer `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		EmptyDir any `yaml:"emptyDir"`
		Secret   *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type k8sContainer struct {
	Image   string   `yaml:"image"`
	Args    []string `yaml:"args"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef any `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// readManifests reads every object of the files kustomization.yaml lists.
func readManifests(t *testing.T, dir string) map[string]map[string]k8sObject {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	out := map[string]map[string]k8sObject{}
	for _, res := range kust.Resources {
		data, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", res, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			if out[o.Kind] == nil {
				out[o.Kind] = map[string]k8sObject{}
			}
			out[o.Kind][o.Metadata.Name] = o
		}
	}
	return out
}

// TestKubernetesManifestsRunEveryFunction checks deploy/kubernetes.
func TestKubernetesManifestsRunEveryFunction(t *testing.T) {
	known := knownFunctions(t)
	objs := readManifests(t, filepath.Join(repoRoot, "deploy/kubernetes"))
	natsHostsOK := k8sNATSHosts(t, objs)
	images := map[string]bool{}
	byFunction := map[string]string{}
	for name, d := range objs["Deployment"] {
		if len(d.Spec.Template.Spec.Containers) != 1 {
			t.Errorf("deployment %s: %d containers, want 1", name, len(d.Spec.Template.Spec.Containers))
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		images[c.Image] = true
		for _, f := range servedFunctions(t, "deployment "+name, c.Args, known) {
			byFunction[f] = name
		}
		checkK8sXBR(t, name, d, c, objs, natsHostsOK)
		checkK8sConventions(t, name, d, c, objs)
	}
	if len(images) != 1 {
		t.Errorf("deployments use images %v, want one image", images)
	}
	for _, f := range known {
		if _, ok := byFunction[f]; !ok {
			t.Errorf("function %s has no deployment", f)
		}
	}
	checkK8sGateway(t, objs, byFunction["gateway"])
}

// k8sNATSHosts are the client addresses of the NATS StatefulSet's pods.
func k8sNATSHosts(t *testing.T, objs map[string]map[string]k8sObject) []string {
	t.Helper()
	var out []string
	for name, s := range objs["StatefulSet"] {
		svc, ok := objs["Service"][s.Spec.ServiceName]
		if !ok || svc.Spec.ClusterIP != "None" {
			t.Errorf("statefulset %s: service %s is not a headless service", name, s.Spec.ServiceName)
		}
		for _, c := range s.Spec.Template.Spec.Containers {
			checkNATSImage(t, "statefulset "+name, c.Image, embeddedNATSMinor(t))
		}
		if s.Spec.Replicas == nil || *s.Spec.Replicas != 3 {
			t.Errorf("statefulset %s: want 3 replicas", name)
			continue
		}
		for i := range 3 {
			out = append(out, fmt.Sprintf("%s-%d.%s:4222", name, i, s.Spec.ServiceName))
		}
		checkK8sNATSConf(t, objs, name, s)
	}
	return out
}

// checkK8sNATSConf loads the NATS configuration the StatefulSet mounts: a
// JetStream cluster routing to its three pods.
func checkK8sNATSConf(t *testing.T, objs map[string]map[string]k8sObject, name string, s k8sObject) {
	t.Helper()
	c := s.Spec.Template.Spec.Containers[0]
	path := flagValue(c.Args, "--config")
	cm := mountedConfigMap(t, "statefulset "+name, s.Spec.Template.Spec, c, filepath.Dir(path), objs)
	t.Setenv("POD_NAME", name+"-0")
	t.Setenv("XBR_NATS_TOKEN", "x")
	opts, err := natsserver.ProcessConfigFile(writeFile(t, "nats.conf", cm.Data[filepath.Base(path)]))
	if err != nil {
		t.Fatalf("statefulset %s: %s: %v", name, path, err)
	}
	var routes []string
	for _, r := range opts.Routes {
		routes = append(routes, r.Host)
	}
	want := []string{name + "-0." + s.Spec.ServiceName + ":6222", name + "-1." + s.Spec.ServiceName + ":6222", name + "-2." + s.Spec.ServiceName + ":6222"}
	if !opts.JetStream || opts.Cluster.Port != 6222 || !slices.Equal(routes, want) {
		t.Errorf("statefulset %s: jetstream %v, cluster port %d, routes %v; want JetStream, 6222, %v",
			name, opts.JetStream, opts.Cluster.Port, routes, want)
	}
}

// checkK8sXBR checks one xbr Deployment: NATS URLs, the mounted ConfigMap
// loading with the Secret's variables, and agreement with the command line.
func checkK8sXBR(t *testing.T, name string, d k8sObject, c k8sContainer, objs map[string]map[string]k8sObject, natsOK []string) {
	t.Helper()
	where := "deployment " + name
	natsURL := flagValue(c.Args, "--nats")
	for _, h := range natsHosts(t, where, natsURL) {
		if !slices.Contains(natsOK, h) {
			t.Errorf("%s: NATS server %s is not a pod of the NATS StatefulSet (%v)", where, h, natsOK)
		}
	}
	env := k8sEnv(t, where, c, objs)
	cfgPath := flagValue(c.Args, "--config")
	cm := mountedConfigMap(t, where, d.Spec.Template.Spec, c, filepath.Dir(cfgPath), objs)
	body, ok := cm.Data[filepath.Base(cfgPath)]
	if !ok {
		t.Fatalf("%s: configmap %s has no key %s", where, cm.Metadata.Name, filepath.Base(cfgPath))
	}
	for dir, secret := range mountedSecrets(t, where, d.Spec.Template.Spec, c, objs) {
		body = withSecretFiles(t, body, dir, secret.StringData)
	}
	file := writeFile(t, "xbr.yaml", body)
	cfg := loadConfig(t, where, file, env)
	if cfg.NATS.URL != natsURL || cfg.NATS.StreamReplicas != 3 || env["XBR_NATS_URL"] != natsURL {
		t.Errorf("%s: config nats.url %q (replicas %d), XBR_NATS_URL %q; want --nats %q and 3 replicas",
			where, cfg.NATS.URL, cfg.NATS.StreamReplicas, env["XBR_NATS_URL"], natsURL)
	}
	if slices.Contains(c.Args, "gateway") {
		if _, port, _ := net.SplitHostPort(cfg.Gateway.Listen); fmt.Sprint(k8sPort(c, "http")) != port {
			t.Errorf("%s: container ports %+v, gateway listens on %s", where, c.Ports, cfg.Gateway.Listen)
		}
	}
}

// mountedConfigMap is the ConfigMap mounted at dir in container c of pod.
func mountedConfigMap(t *testing.T, where string, pod k8sPod, c k8sContainer, dir string, objs map[string]map[string]k8sObject) k8sObject {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cm, ok := objs["ConfigMap"][v.ConfigMap.Name]
				if !ok {
					t.Fatalf("%s: configmap %s is not defined", where, v.ConfigMap.Name)
				}
				return cm
			}
		}
	}
	t.Fatalf("%s: no configmap mounted at %s", where, dir)
	return k8sObject{}
}

// checkK8sGateway: the web page's http port, and a Service in front of it
// (the probes, like every function's, are checked by checkK8sConventions).
func checkK8sGateway(t *testing.T, objs map[string]map[string]k8sObject, name string) {
	t.Helper()
	d, ok := objs["Deployment"][name]
	if !ok {
		t.Fatal("no gateway deployment")
	}
	if k8sPort(d.Spec.Template.Spec.Containers[0], "http") != 8080 {
		t.Errorf("gateway: no container port named http on 8080: %+v", d.Spec.Template.Spec.Containers[0].Ports)
	}
	found := false
	for _, s := range objs["Service"] {
		for _, p := range s.Spec.Ports {
			if fmt.Sprint(p.TargetPort) == "http" && p.Port == 8080 {
				found = true
			}
		}
	}
	if !found {
		t.Error("no Service exposes the gateway's http port as 8080")
	}
}
