"""Creates the template's resources in moto (idempotently, so restored state is reused) and records their Ref/GetAtt values."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infrastructure.local.template import (
    PARTITION,
    ResourceValues,
    Template,
    TemplateError,
    load_yaml,
    physical_name,
)

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]

# Resource types with no local behaviour: they get placeholder values and a debug line.
SKIPPED_TYPE_PREFIXES = (
    "AWS::CloudFront::",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::EventSchemas::",
    "AWS::CloudWatch::",
    "AWS::IAM::",
    "AWS::Logs::",
    "AWS::Lambda::Permission",
    "AWS::SNS::",
    "AWS::ApplicationInsights::",
    "AWS::ApiGateway::Account",  # the account's CloudWatch role for API access logs; the emulator logs nothing
    "AWS::WAFv2::",  # the API's web ACL: the gateway emulator enforces its rate-based rules (gateway.py)
)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _pick(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: props[key] for key in keys if key in props}


def _api_keys(node: Any) -> Any:
    """CloudFormation's keys (`LogGroupArn`) as the service API spells them (`logGroupArn`), at every depth."""
    if isinstance(node, dict):
        return {key[:1].lower() + key[1:]: _api_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_api_keys(item) for item in node]
    return node


def local_api_id(logical_id: str) -> str:
    """A stable, API-Gateway-shaped id (10 lowercase characters) for a local REST API."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:10]


class Provisioner:
    """Walks the template in dependency order and makes each supported resource exist in moto."""

    def __init__(self, template: Template, client: ClientFactory, repo_root: Path) -> None:
        self.template = template
        self.client = client
        self.repo_root = repo_root
        self.functions: dict[str, dict[str, Any]] = {}
        self.apis: dict[str, dict[str, Any]] = {}
        self.skipped: list[str] = []
        self._region = template.region
        self._account = template.account_id

    def provision(self) -> None:
        """Create (or adopt) every resource; afterwards template.resolve() works for the whole template."""
        handlers: dict[str, Callable[[str, dict[str, Any]], ResourceValues]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._rule,
            "AWS::Events::Archive": self._archive,
            "AWS::Serverless::StateMachine": self._state_machine,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SES::EmailIdentity": self._email_identity,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::Api": self._api,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::IAM::Role": self._role,
        }
        for logical_id in self.template.creation_order():
            resource_type = str(self.template.resources[logical_id].get("Type"))
            handler = handlers.get(resource_type)
            if handler is None:
                if not resource_type.startswith(SKIPPED_TYPE_PREFIXES):
                    logger.warning("%s (%s) is not emulated locally; skipped", logical_id, resource_type)
                else:
                    logger.debug("%s (%s) has no local counterpart; skipped", logical_id, resource_type)
                self.skipped.append(logical_id)
                self.template.values[logical_id] = ResourceValues(
                    ref=f"{self.template.stack_name}-{logical_id}", placeholder=True
                )
                continue
            props = self.template.resolve(self.template.properties(logical_id))
            self.template.values[logical_id] = handler(logical_id, props)

    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{PARTITION}:{service}:{self._region if region else ''}:{self._account if account else ''}:{resource}"
        )

    # ------------------------------------------------------------------ DynamoDB

    def _table(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        ddb = self.client("dynamodb")
        name = str(props.get("TableName") or physical_name(logical_id, max_length=255))
        try:
            description = ddb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            description = ddb.create_table(**self._table_request(name, props))["TableDescription"]
            ttl = props.get("TimeToLiveSpecification") or {}
            if ttl.get("Enabled"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
        return ResourceValues(
            ref=name,
            attrs={"Arn": description["TableArn"], "StreamArn": description.get("LatestStreamArn")},
        )

    @staticmethod
    def _table_request(name: str, props: dict[str, Any]) -> dict[str, Any]:
        billing = str(props.get("BillingMode") or "PROVISIONED")
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": billing,
        }
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}

        def index(spec: dict[str, Any], *, global_index: bool) -> dict[str, Any]:
            shaped = _pick(spec, "IndexName", "KeySchema", "Projection")
            if global_index and billing == "PROVISIONED":
                shaped["ProvisionedThroughput"] = spec.get("ProvisionedThroughput") or throughput
            return shaped

        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = throughput
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                index(spec, global_index=True) for spec in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = [
                index(spec, global_index=False) for spec in props["LocalSecondaryIndexes"]
            ]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        return request

    # ------------------------------------------------------------------ SQS

    def _queue(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        sqs = self.client("sqs")
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = str(props.get("QueueName") or physical_name(logical_id, max_length=75) + (".fifo" if fifo else ""))
        attributes: dict[str, str] = {}
        for key in (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "SqsManagedSseEnabled",
        ):
            if key in props:
                attributes[key] = str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                value = props[key]
                attributes[key] = value if isinstance(value, str) else json.dumps(value)
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            if attributes:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        except ClientError as error:
            if "NonExistentQueue" not in _error_code(error) and "QueueDoesNotExist" not in _error_code(error):
                raise
            create_attributes = {**attributes, **({"FifoQueue": "true"} if fifo else {})}
            url = sqs.create_queue(QueueName=name, Attributes=create_attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return ResourceValues(ref=url, attrs={"Arn": arn, "QueueName": name, "QueueUrl": url})

    # ------------------------------------------------------------------ EventBridge

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        events = self.client("events")
        name = str(props.get("Name") or physical_name(logical_id))
        try:
            arn = events.describe_event_bus(Name=name)["Arn"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            arn = events.create_event_bus(**{"Name": name, **_pick(props, "Description")})["EventBusArn"]
        return ResourceValues(ref=name, attrs={"Arn": arn, "Name": name})

    def _rule(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        events = self.client("events")
        name = str(props.get("Name") or physical_name(logical_id))
        bus = str(props.get("EventBusName") or "default")
        request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        request.update(_pick(props, "Description", "ScheduleExpression", "RoleArn"))
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        arn = events.put_rule(**request)["RuleArn"]
        targets = []
        for target in props.get("Targets") or []:
            if ":sqs:" not in str(target.get("Arn")):
                # moto's put_events raises on Lambda, Step Functions and SNS targets (DESIGN.md section 6).
                logger.warning("rule %s: target %s is not an SQS queue; not delivered locally", name, target["Arn"])
                continue
            targets.append(
                _pick(
                    target,
                    "Id",
                    "Arn",
                    "Input",
                    "InputPath",
                    "InputTransformer",
                    "SqsParameters",
                    "RetryPolicy",
                    "DeadLetterConfig",
                )
            )
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        return ResourceValues(ref=name, attrs={"Arn": arn})

    def _archive(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        events = self.client("events")
        name = str(props.get("ArchiveName") or physical_name(logical_id, max_length=48))
        arn = self._arn("events", f"archive/{name}")
        try:
            events.describe_archive(ArchiveName=name)
        except ClientError:
            request: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": props["SourceArn"]}
            request.update(_pick(props, "Description", "RetentionDays"))
            if "EventPattern" in props:
                pattern = props["EventPattern"]
                request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
            try:
                arn = events.create_archive(**request)["ArchiveArn"]
            except ClientError as error:
                logger.debug("archive %s not created locally: %s", name, error)
        return ResourceValues(ref=name, attrs={"Arn": arn})

    # ------------------------------------------------------------------ Step Functions

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        sfn = self.client("stepfunctions")
        name = str(props.get("Name") or props.get("StateMachineName") or physical_name(logical_id, max_length=80))
        definition = self._definition(logical_id, props)
        role = str(props.get("Role") or props.get("RoleArn") or self._arn("iam", f"role/{name}-role", region=False))
        arn = self._arn("states", f"stateMachine:{name}")
        # SAM's `Logging`/`Tracing` or CloudFormation's `LoggingConfiguration`/`TracingConfiguration`: moto keeps
        # them (describe_state_machine shows them) but writes no execution logs; an EXPRESS machine runs like the
        # others (moto's StartExecution runs every program, whatever its type).
        options: dict[str, Any] = {}
        if logging_configuration := props.get("Logging") or props.get("LoggingConfiguration"):
            options["loggingConfiguration"] = _api_keys(logging_configuration)
        if tracing := props.get("Tracing") or props.get("TracingConfiguration"):
            options["tracingConfiguration"] = _api_keys(tracing)
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
            sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role, **options)
        except ClientError as error:
            if _error_code(error) != "StateMachineDoesNotExist":
                raise
            arn = sfn.create_state_machine(
                name=name, definition=definition, roleArn=role, type=str(props.get("Type") or "STANDARD"), **options
            )["stateMachineArn"]
        return ResourceValues(ref=arn, attrs={"Arn": arn, "Name": name})

    def _definition(self, logical_id: str, props: dict[str, Any]) -> str:
        if "DefinitionUri" in props or "DefinitionS3Location" in props:
            uri = props.get("DefinitionUri", props.get("DefinitionS3Location"))
            if not isinstance(uri, str):
                raise TemplateError(f"{logical_id}: only a local DefinitionUri path is supported")
            path = self.repo_root / uri
            text = path.read_text(encoding="utf-8")
            if path.suffix in {".yaml", ".yml"}:
                text = json.dumps(load_yaml(text))
        elif "Definition" in props:
            text = json.dumps(props["Definition"])
        elif "DefinitionString" in props:
            text = str(props["DefinitionString"])
        else:
            raise TemplateError(f"{logical_id}: no state machine definition")
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", str(value))
        json.loads(text)  # fail here, with the file name in the traceback, rather than inside moto
        return text

    # ------------------------------------------------------------------ Cognito

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        cognito = self.client("cognito-idp")
        name = str(props.get("UserPoolName") or physical_name(logical_id, max_length=128))
        pool_id = self._find_user_pool(name)
        if pool_id is None:
            request = _pick(
                props,
                "Policies",
                "AutoVerifiedAttributes",
                "AliasAttributes",
                "UsernameAttributes",
                "SmsVerificationMessage",
                "EmailVerificationMessage",
                "EmailVerificationSubject",
                "VerificationMessageTemplate",
                "SmsAuthenticationMessage",
                "MfaConfiguration",
                "DeviceConfiguration",
                "EmailConfiguration",
                "AdminCreateUserConfig",
                "Schema",
                "UserPoolAddOns",
                "UsernameConfiguration",
                "AccountRecoverySetting",
                "DeletionProtection",
            )
            if props.get("UserPoolTags"):
                request["UserPoolTags"] = props["UserPoolTags"]
            pool_id = cognito.create_user_pool(PoolName=name, **request)["UserPool"]["Id"]
        provider = f"cognito-idp.{self._region}.amazonaws.com/{pool_id}"
        return ResourceValues(
            ref=pool_id,
            attrs={
                "Arn": self._arn("cognito-idp", f"userpool/{pool_id}"),
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
                "UserPoolId": pool_id,
            },
        )

    def _find_user_pool(self, name: str) -> str | None:
        paginator = self.client("cognito-idp").get_paginator("list_user_pools")
        for page in paginator.paginate(MaxResults=60):
            for pool in page.get("UserPools", []):
                if pool["Name"] == name:
                    return str(pool["Id"])
        return None

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        cognito = self.client("cognito-idp")
        pool_id = str(props["UserPoolId"])
        name = str(props.get("ClientName") or logical_id)
        existing = [
            client
            for client in cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
            if client["ClientName"] == name
        ]
        request = _pick(
            props,
            "RefreshTokenValidity",
            "AccessTokenValidity",
            "IdTokenValidity",
            "TokenValidityUnits",
            "ReadAttributes",
            "WriteAttributes",
            "ExplicitAuthFlows",
            "SupportedIdentityProviders",
            "CallbackURLs",
            "LogoutURLs",
            "DefaultRedirectURI",
            "AllowedOAuthFlows",
            "AllowedOAuthScopes",
            "AllowedOAuthFlowsUserPoolClient",
            "PreventUserExistenceErrors",
            "EnableTokenRevocation",
            "EnablePropagateAdditionalUserContextData",
            "AuthSessionValidity",
        )
        if existing:
            # A restored stack's client gets the template's settings again (token lifetimes, flows...), as a deploy
            # updates it; its id and secret stay (GenerateSecret cannot change on an existing client).
            client = cognito.update_user_pool_client(
                UserPoolId=pool_id, ClientId=existing[0]["ClientId"], ClientName=name, **request
            )
        else:
            client = cognito.create_user_pool_client(
                UserPoolId=pool_id, ClientName=name, **_pick(props, "GenerateSecret"), **request
            )
        details = client["UserPoolClient"]
        return ResourceValues(
            ref=details["ClientId"],
            attrs={
                "ClientId": details["ClientId"],
                "Name": name,
                "ClientSecret": details.get("ClientSecret"),
                "UserPoolId": pool_id,
            },
        )

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        cognito = self.client("cognito-idp")
        name = str(props.get("GroupName") or physical_name(logical_id))
        try:
            cognito.create_group(
                GroupName=name,
                UserPoolId=props["UserPoolId"],
                **_pick(props, "Description", "Precedence", "RoleArn"),
            )
        except ClientError as error:
            if _error_code(error) != "GroupExistsException":
                raise
        return ResourceValues(ref=name)

    # ------------------------------------------------------------------ Secrets Manager, SES, S3

    def _secret(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        secrets = self.client("secretsmanager")
        name = str(props.get("Name") or physical_name(logical_id, max_length=512))
        try:
            arn = secrets.describe_secret(SecretId=name)["ARN"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            arn = secrets.create_secret(
                Name=name, SecretString=self._secret_string(props), **_pick(props, "Description")
            )["ARN"]
        return ResourceValues(ref=arn, attrs={"Id": arn})

    def _secret_string(self, props: dict[str, Any]) -> str:
        if "SecretString" in props:
            return str(props["SecretString"])
        spec = props.get("GenerateSecretString") or {}
        password = self.client("secretsmanager").get_random_password(
            **_pick(
                spec,
                "PasswordLength",
                "ExcludeCharacters",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "ExcludeLowercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
        )["RandomPassword"]
        if "SecretStringTemplate" in spec:
            document = json.loads(spec["SecretStringTemplate"])
            document[spec["GenerateStringKey"]] = password
            return json.dumps(document)
        return str(password)

    def _role(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        """Nothing checks IAM locally, but a role's Ref and Arn must look like one (a function may validate them)."""
        name = str(props.get("RoleName") or physical_name(logical_id, max_length=64))
        arn = self._arn("iam", f"role{props.get('Path') or '/'}{name}", region=False)
        role_id = "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()
        return ResourceValues(ref=name, attrs={"Arn": arn, "RoleId": role_id})

    def _schedule_group(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        """A Scheduler group; the local stack's ScheduleRunner fires its due schedules (moto never does)."""
        scheduler = self.client("scheduler")
        name = str(props.get("Name") or physical_name(logical_id, max_length=64))
        try:
            arn = scheduler.get_schedule_group(Name=name)["Arn"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
        return ResourceValues(ref=name, attrs={"Arn": arn})

    def _email_identity(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        identity = str(props["EmailIdentity"])
        try:
            self.client("sesv2").create_email_identity(EmailIdentity=identity)
        except ClientError as error:
            if _error_code(error) != "AlreadyExistsException":
                raise
        return ResourceValues(ref=identity)

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        s3 = self.client("s3")
        name = str(props.get("BucketName") or physical_name(logical_id, max_length=63, lower=True))
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as error:
            if _error_code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
        cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
        if cors:
            renamed = {"ExposedHeaders": "ExposeHeaders", "Id": "ID", "MaxAge": "MaxAgeSeconds"}
            rules = [{renamed.get(key, key): value for key, value in rule.items()} for rule in cors]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        notifications = props.get("NotificationConfiguration") or {}
        if (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            # object events to the default bus, where a rule (e.g. ContentUploadsRule) takes them to a queue
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        return ResourceValues(
            ref=name,
            attrs={
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{self._region}.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self._region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{self._region}.amazonaws.com",
            },
        )

    # ------------------------------------------------------------------ serverless pieces that run in-process

    def _function(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        name = str(props.get("FunctionName") or physical_name(logical_id))
        self.functions[logical_id] = props
        return ResourceValues(ref=name, attrs={"Arn": self._arn("lambda", f"function:{name}")})

    def _api(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        self.apis[logical_id] = props
        return ResourceValues(ref=local_api_id(logical_id), attrs={"RootResourceId": "root"})

    def _layer(self, logical_id: str, props: dict[str, Any]) -> ResourceValues:
        # Only its ARN: the stack links each function's layers into its /opt (layers.py).
        name = str(props.get("LayerName") or physical_name(logical_id))
        arn = self._arn("lambda", f"layer:{name}:1")
        return ResourceValues(ref=arn, attrs={"Arn": arn})
