// The audit log's actions in words, by the code the server logs them under (AuditAction in
// parley/core/moderation.py), for the admin console's log and the public transparency report.
// tests/unit/test_audit_actions.py checks that both sides name the same actions; one this client
// does not know (a newer server) shows its code.
export const ACTIONS = {
  suspend: "Account suspended",
  unsuspend: "Suspension lifted",
  limit: "Account limited",
  unlimit: "Limit lifted",
  remove_post: "Post removed",
  restore_post: "Post restored on appeal",
  remove_recording: "Recording removed",
  restore_recording: "Recording restored on appeal",
  recording_delete: "Recording deleted",
  end_space: "Space ended",
  restore_space: "Space restored on appeal",
  appeal: "Appeal made",
  decide_appeal: "Appeal decided",
  report_actioned: "Report acted on",
  report_dismissed: "Report dismissed",
  link_rule_add: "Link rule added",
  link_rule_remove: "Link rule removed",
  feature_on: "Feature switched on",
  feature_off: "Feature switched off",
  location_policy: "Location policy changed",
};
