"""Engine type tokens that more than one rule module matches on, one constant per token.

A token only one module uses stays in that module. Tokens match pulumi-aws 7.x,
pulumi-azure-native 3.x and pulumi-gcp 10.x (the ``super().__init__('<token>', ...)`` call of each
resource class); the azure-native ``insights:`` aliases are the v2 names. Rules work on these
strings; the pack never imports the provider SDKs.
"""

from __future__ import annotations

# --- AWS -----------------------------------------------------------------------------------------
AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_SPOT_INSTANCE = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
AWS_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
#: Spot fleets launched from inline `launchSpecifications` (no launch template) carry their own
#: user data, disks and public-IP switch.
AWS_SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"

AWS_LB = "aws:lb/loadBalancer:LoadBalancer"
AWS_ALB = "aws:alb/loadBalancer:LoadBalancer"
#: ELBv2 load balancers (``aws:alb`` is the alias module of ``aws:lb``).
AWS_LBS = (AWS_LB, AWS_ALB)
AWS_ELB = "aws:elb/loadBalancer:LoadBalancer"
AWS_LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")

AWS_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
AWS_METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
AWS_SNS_TOPIC = "aws:sns/topic:Topic"
AWS_SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"

# --- Azure ---------------------------------------------------------------------------------------
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
AZ_APPGW = "azure-native:network:ApplicationGateway"
AZ_LB = "azure-native:network:LoadBalancer"
AZ_WORKSPACE = "azure-native:operationalinsights:Workspace"
#: azure-native v3 registers `monitor:`; programs on v2 still use `insights:` (kept as aliases).
AZ_METRIC_ALERTS = ("azure-native:monitor:MetricAlert", "azure-native:insights:MetricAlert")
AZ_ACTION_GROUPS = ("azure-native:monitor:ActionGroup", "azure-native:insights:ActionGroup")

# --- GCP -----------------------------------------------------------------------------------------
GCP_INSTANCE = "gcp:compute/instance:Instance"
GCP_INSTANCE_FROM_TEMPLATE = "gcp:compute/instanceFromTemplate:InstanceFromTemplate"
GCP_INSTANCE_FROM_MACHINE_IMAGE = "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage"
#: Instances whose unset properties are inherited from a template or machine image.
GCP_DERIVED_INSTANCES = (GCP_INSTANCE_FROM_TEMPLATE, GCP_INSTANCE_FROM_MACHINE_IMAGE)
GCP_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCP_REGION_TEMPLATE = "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate"
#: VMs and the templates that define them.
GCP_VM_TYPES = (GCP_INSTANCE, *GCP_DERIVED_INSTANCES, GCP_TEMPLATE, GCP_REGION_TEMPLATE)

GCP_GLOBAL_FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
GCP_FORWARDING_RULE = "gcp:compute/forwardingRule:ForwardingRule"
GCP_BACKEND = "gcp:compute/backendService:BackendService"
GCP_REGION_BACKEND = "gcp:compute/regionBackendService:RegionBackendService"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"

GCP_PROJECT_BUCKET_CONFIG = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
GCP_FOLDER_BUCKET_CONFIG = "gcp:logging/folderBucketConfig:FolderBucketConfig"
GCP_ORGANIZATION_BUCKET_CONFIG = "gcp:logging/organizationBucketConfig:OrganizationBucketConfig"
GCP_ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
GCP_NOTIFICATION_CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
