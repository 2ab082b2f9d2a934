using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>GitHub's shapes: workflows and their runs.</summary>
public static partial class GitHubShapes
{
    /// <summary>A stable numeric id for a workflow file.</summary>
    public static long WorkflowId(string workflow) => 160_000 + (uint)workflow.GetHashCode(StringComparison.Ordinal) % 100_000;

    /// <summary>GitHub's <c>workflow</c> (the <c>workflow_run</c> webhook's <c>workflow</c>).</summary>
    public static JsonObject Workflow(Uri api, StandInRepository repository, string workflow)
    {
        var id = WorkflowId(workflow);
        return new JsonObject
        {
            ["id"] = id,
            ["node_id"] = NodeId("W", id),
            ["name"] = workflow,
            ["path"] = $".github/workflows/{workflow}",
            ["state"] = "active",
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["updated_at"] = "2026-01-01T00:00:00Z",
            ["url"] = new Uri(api, $"repos/{repository.FullName}/actions/workflows/{id}").ToString(),
            ["html_url"] = $"https://github.com/{repository.FullName}/blob/{repository.DefaultBranch}/.github/workflows/{workflow}",
            ["badge_url"] = $"https://github.com/{repository.FullName}/workflows/{workflow}/badge.svg",
        };
    }

    /// <summary>GitHub's <c>workflow-run</c> (REST), which also fits the <c>workflow_run</c> webhook's <c>workflow_run</c>.</summary>
    public static JsonObject WorkflowRun(Uri api, StandInWorkflowRun run)
    {
        var repository = run.Repository;
        var url = new Uri(api, $"repos/{repository.FullName}/actions/runs/{run.Id}").ToString();
        var sha = new string('d', 40);
        var signature = new JsonObject { ["name"] = run.Actor, ["email"] = $"{run.Actor}@users.noreply.github.com" };
        var lite = Repository(api, repository);
        return new JsonObject
        {
            ["id"] = run.Id,
            ["name"] = run.Workflow,
            ["node_id"] = NodeId("WFR", run.Id),
            ["check_suite_id"] = run.Id + 1,
            ["check_suite_node_id"] = NodeId("CS", run.Id + 1),
            ["head_branch"] = run.Ref,
            ["head_sha"] = sha,
            ["path"] = $".github/workflows/{run.Workflow}",
            ["display_title"] = run.DisplayTitle,
            ["run_number"] = run.Id % 1000,
            ["run_attempt"] = 1,
            ["event"] = "workflow_dispatch",
            ["status"] = run.Status,
            ["conclusion"] = run.Conclusion,
            ["workflow_id"] = WorkflowId(run.Workflow),
            ["url"] = url,
            ["html_url"] = $"https://github.com/{repository.FullName}/actions/runs/{run.Id}",
            ["pull_requests"] = new JsonArray(),
            ["created_at"] = Time(run.CreatedAt),
            ["updated_at"] = Time(run.UpdatedAt),
            ["run_started_at"] = Time(run.CreatedAt),
            ["actor"] = Person(api, run.Actor, UserType(run.Actor)),
            ["triggering_actor"] = Person(api, run.Actor, UserType(run.Actor)),
            ["jobs_url"] = url + "/jobs",
            ["logs_url"] = url + "/logs",
            ["check_suite_url"] = new Uri(api, $"repos/{repository.FullName}/check-suites/{run.Id + 1}").ToString(),
            ["artifacts_url"] = url + "/artifacts",
            ["cancel_url"] = url + "/cancel",
            ["rerun_url"] = url + "/rerun",
            ["previous_attempt_url"] = null,
            ["workflow_url"] = new Uri(api, $"repos/{repository.FullName}/actions/workflows/{WorkflowId(run.Workflow)}").ToString(),
            ["head_commit"] = new JsonObject
            {
                ["id"] = sha, ["tree_id"] = new string('e', 40), ["message"] = $"Head of {run.Ref}", ["timestamp"] = Time(run.CreatedAt),
                ["author"] = signature, ["committer"] = signature.DeepClone(),
            },
            ["repository"] = lite,
            ["head_repository"] = lite.DeepClone(),
        };
    }
}
