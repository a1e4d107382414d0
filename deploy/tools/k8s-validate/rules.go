package main

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// semantic applies the API server's rules that no schema expresses, for the kinds a chart
// usually renders.
func semantic(obj runtime.Object) []string {
	var p problems
	if m, ok := obj.(metav1.Object); ok {
		p.meta(m)
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		p.selector("spec.selector", o.Spec.Selector, o.Spec.Template.Labels)
		p.podSpec("spec.template.spec", &o.Spec.Template.Spec)
	case *appsv1.StatefulSet:
		p.selector("spec.selector", o.Spec.Selector, o.Spec.Template.Labels)
		p.podSpec("spec.template.spec", &o.Spec.Template.Spec)
	case *appsv1.DaemonSet:
		p.selector("spec.selector", o.Spec.Selector, o.Spec.Template.Labels)
		p.podSpec("spec.template.spec", &o.Spec.Template.Spec)
	case *corev1.Service:
		p.dns1035("metadata.name", o.Name)
		if len(o.Spec.Ports) == 0 && o.Spec.Type != corev1.ServiceTypeExternalName {
			p.add("spec.ports: a Service needs at least one port")
		}
		seen := map[string]bool{}
		for i, port := range o.Spec.Ports {
			f := fmt.Sprintf("spec.ports[%d]", i)
			p.port(f+".port", port.Port)
			p.intOrString(f+".targetPort", port.TargetPort)
			if len(o.Spec.Ports) > 1 && port.Name == "" {
				p.add(f + ".name: required when a Service has several ports")
			}
			if seen[port.Name] {
				p.add(f + ".name: duplicate " + port.Name)
			}
			seen[port.Name] = true
		}
	case *corev1.ConfigMap:
		for k := range o.Data {
			p.errs("data key "+k, validation.IsConfigMapKey(k))
		}
	case *corev1.Secret:
		for k := range o.Data {
			p.errs("data key "+k, validation.IsConfigMapKey(k))
		}
		for k := range o.StringData {
			p.errs("stringData key "+k, validation.IsConfigMapKey(k))
		}
	case *policyv1.PodDisruptionBudget:
		if (o.Spec.MinAvailable == nil) == (o.Spec.MaxUnavailable == nil) {
			p.add("spec: exactly one of minAvailable and maxUnavailable")
		}
		if o.Spec.Selector == nil {
			p.add("spec.selector: required")
		} else {
			p.labelSelector("spec.selector", o.Spec.Selector)
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		if o.Spec.ScaleTargetRef.Kind == "" || o.Spec.ScaleTargetRef.Name == "" {
			p.add("spec.scaleTargetRef: kind and name are required")
		}
		if o.Spec.MaxReplicas < 1 {
			p.add("spec.maxReplicas: must be at least 1")
		}
		if o.Spec.MinReplicas != nil && (*o.Spec.MinReplicas < 1 || *o.Spec.MinReplicas > o.Spec.MaxReplicas) {
			p.add("spec.minReplicas: must be between 1 and maxReplicas")
		}
	case *networkingv1.NetworkPolicy:
		p.labelSelector("spec.podSelector", &o.Spec.PodSelector)
		for i, t := range o.Spec.PolicyTypes {
			if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
				p.add(fmt.Sprintf("spec.policyTypes[%d]: %q is neither Ingress nor Egress", i, t))
			}
		}
		for i, r := range o.Spec.Ingress {
			p.policyPorts(fmt.Sprintf("spec.ingress[%d].ports", i), r.Ports)
			p.peers(fmt.Sprintf("spec.ingress[%d].from", i), r.From)
		}
		for i, r := range o.Spec.Egress {
			p.policyPorts(fmt.Sprintf("spec.egress[%d].ports", i), r.Ports)
			p.peers(fmt.Sprintf("spec.egress[%d].to", i), r.To)
		}
	}
	return p.list
}

type problems struct{ list []string }

func (p *problems) add(s string) { p.list = append(p.list, s) }

func (p *problems) errs(field string, errs []string) {
	for _, e := range errs {
		p.add(field + ": " + e)
	}
}

func (p *problems) dns1035(field, v string) { p.errs(field, validation.IsDNS1035Label(v)) }

func (p *problems) meta(m metav1.Object) {
	p.errs("metadata.name", validation.IsDNS1123Subdomain(m.GetName()))
	if ns := m.GetNamespace(); ns != "" {
		p.errs("metadata.namespace", validation.IsDNS1123Label(ns))
	}
	p.labels("metadata.labels", m.GetLabels())
	for k := range m.GetAnnotations() {
		p.errs("metadata.annotations key "+k, validation.IsQualifiedName(k))
	}
}

func (p *problems) labels(field string, l map[string]string) {
	for k, v := range l {
		p.errs(field+" key "+k, validation.IsQualifiedName(k))
		p.errs(field+"["+k+"]", validation.IsValidLabelValue(v))
	}
}

func (p *problems) labelSelector(field string, s *metav1.LabelSelector) {
	p.labels(field+".matchLabels", s.MatchLabels)
	if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
		p.add(field + ": " + err.Error())
	}
}

func (p *problems) selector(field string, s *metav1.LabelSelector, template map[string]string) {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		p.add(field + ": required and not empty")
		return
	}
	p.labelSelector(field, s)
	p.labels("spec.template.metadata.labels", template)
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err == nil && !sel.Matches(labels.Set(template)) {
		p.add(field + ": does not match the pod template's labels")
	}
}

func (p *problems) port(field string, n int32) {
	if n < 1 || n > 65535 {
		p.add(fmt.Sprintf("%s: %d is not between 1 and 65535", field, n))
	}
}

func (p *problems) intOrString(field string, v intstr.IntOrString) {
	if v.Type == intstr.String {
		p.errs(field, validation.IsValidPortName(v.StrVal))
	} else if v.IntVal != 0 {
		p.port(field, v.IntVal)
	}
}

func (p *problems) policyPorts(field string, ports []networkingv1.NetworkPolicyPort) {
	for i, port := range ports {
		f := fmt.Sprintf("%s[%d]", field, i)
		if port.Port != nil {
			p.intOrString(f+".port", *port.Port)
		}
		if port.Protocol != nil {
			switch *port.Protocol {
			case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
			default:
				p.add(fmt.Sprintf("%s.protocol: %q is not TCP, UDP or SCTP", f, *port.Protocol))
			}
		}
		if port.EndPort != nil && (port.Port == nil || port.Port.Type != intstr.Int || *port.EndPort < port.Port.IntVal) {
			p.add(f + ".endPort: needs a numeric port not above it")
		}
	}
}

func (p *problems) peers(field string, peers []networkingv1.NetworkPolicyPeer) {
	for i, peer := range peers {
		f := fmt.Sprintf("%s[%d]", field, i)
		if peer.IPBlock != nil && (peer.PodSelector != nil || peer.NamespaceSelector != nil) {
			p.add(f + ": ipBlock cannot be combined with a selector")
		}
		if peer.IPBlock == nil && peer.PodSelector == nil && peer.NamespaceSelector == nil {
			p.add(f + ": needs an ipBlock, a podSelector or a namespaceSelector")
		}
		if peer.PodSelector != nil {
			p.labelSelector(f+".podSelector", peer.PodSelector)
		}
		if peer.NamespaceSelector != nil {
			p.labelSelector(f+".namespaceSelector", peer.NamespaceSelector)
		}
	}
}

func (p *problems) podSpec(field string, s *corev1.PodSpec) {
	if len(s.Containers) == 0 {
		p.add(field + ".containers: at least one container")
	}
	volumes := map[string]bool{}
	for i, v := range s.Volumes {
		f := fmt.Sprintf("%s.volumes[%d]", field, i)
		p.errs(f+".name", validation.IsDNS1123Label(v.Name))
		if volumes[v.Name] {
			p.add(f + ".name: duplicate " + v.Name)
		}
		volumes[v.Name] = true
	}
	names := map[string]bool{}
	check := func(kind string, i int, c *corev1.Container) {
		f := fmt.Sprintf("%s.%s[%d]", field, kind, i)
		p.errs(f+".name", validation.IsDNS1123Label(c.Name))
		if names[c.Name] {
			p.add(f + ".name: duplicate " + c.Name)
		}
		names[c.Name] = true
		if c.Image == "" {
			p.add(f + ".image: required")
		}
		ports := map[string]bool{}
		for j, port := range c.Ports {
			pf := fmt.Sprintf("%s.ports[%d]", f, j)
			p.port(pf+".containerPort", port.ContainerPort)
			if port.Name != "" {
				p.errs(pf+".name", validation.IsValidPortName(port.Name))
				if ports[port.Name] {
					p.add(pf + ".name: duplicate " + port.Name)
				}
				ports[port.Name] = true
			}
		}
		for j, e := range c.Env {
			ef := fmt.Sprintf("%s.env[%d]", f, j)
			p.errs(ef+".name", validation.IsEnvVarName(e.Name))
			if e.ValueFrom != nil {
				if e.Value != "" {
					p.add(ef + ": value and valueFrom are exclusive")
				}
				n := 0
				for _, set := range []bool{e.ValueFrom.SecretKeyRef != nil, e.ValueFrom.ConfigMapKeyRef != nil,
					e.ValueFrom.FieldRef != nil, e.ValueFrom.ResourceFieldRef != nil, e.ValueFrom.FileKeyRef != nil} {
					if set {
						n++
					}
				}
				if n != 1 {
					p.add(ef + ".valueFrom: exactly one source")
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil && (r.Name == "" || r.Key == "") {
					p.add(ef + ".valueFrom.secretKeyRef: name and key are required")
				}
			}
		}
		for j, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				p.add(fmt.Sprintf("%s.volumeMounts[%d]: no volume named %q", f, j, m.Name))
			}
			if m.MountPath == "" {
				p.add(fmt.Sprintf("%s.volumeMounts[%d].mountPath: required", f, j))
			}
		}
		for _, probe := range []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
			if probe.probe == nil || probe.probe.HTTPGet == nil {
				continue
			}
			port := probe.probe.HTTPGet.Port
			if port.Type == intstr.String && !ports[port.StrVal] {
				p.add(fmt.Sprintf("%s.%s.httpGet.port: no container port named %q", f, probe.name, port.StrVal))
			}
		}
	}
	for i := range s.InitContainers {
		check("initContainers", i, &s.InitContainers[i])
	}
	for i := range s.Containers {
		check("containers", i, &s.Containers[i])
	}
}
