import Foundation
import Notify
import Shared

// The enums that appear in request and response bodies: the OpenAPI document lists their values.
extension OutboxState: SchemaEnum {}
extension OutboxChannel: SchemaEnum {}
extension SyncStatus: SchemaEnum {}
extension ComplianceReport.Finding: SchemaEnum {}
extension ShareRecord.ObjectKind: SchemaEnum {}
extension ShareRecord.PrincipalKind: SchemaEnum {}
extension AgentJobState: SchemaEnum {}
extension RotationConfig.PasswordChoice: SchemaEnum {}
extension RotationSchedule.Kind: SchemaEnum {}
extension NotificationEvent: SchemaEnum {}
extension Role: SchemaEnum {}
extension Permission: SchemaEnum {}
extension ResetConfig.Mode: SchemaEnum {}
extension TaskRecord.Kind: SchemaEnum {}
extension TaskRecord.State: SchemaEnum {}
extension TaskRecord.Phase: SchemaEnum {}
extension LoginNotices.Notice.Kind: SchemaEnum {}
extension ListenerRecord.Kind: SchemaEnum {}
extension ListenerRecord.SecretsVia: SchemaEnum {}
extension ListenerRecord.Status: SchemaEnum {}
extension PasswordSetBody.ResetType: SchemaEnum {}
extension PluginDescriptor.Capability: SchemaEnum {}
extension ResetSettings.TransportKind: SchemaEnum {}
extension ResetSettings.Elevation: SchemaEnum {}
extension ResetSettings.AuthMethod: SchemaEnum {}
extension ResetSettings.ChangeMethod: SchemaEnum {}
extension TokenRecord.Kind: SchemaEnum {}
extension SMTPSettings.Security: SchemaEnum {}
extension SyslogSettings.Transport: SchemaEnum {}
extension SyslogSettings.Format: SchemaEnum {}
extension BackupHeader.Mode: SchemaEnum {}
extension BackupInfo.Trigger: SchemaEnum {}
