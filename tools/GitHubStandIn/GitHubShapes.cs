using System.Globalization;
using System.Text.Json.Nodes;

namespace GitHubStandIn;

/// <summary>
/// JSON in GitHub's own shapes (REST answers and webhook payloads), built with the same property names as the real
/// payloads in @octokit/webhooks-examples; a test in DeployFunctions.Tests compares them.
/// </summary>
public static class GitHubShapes
{
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonObject User(Uri api, string login, long id, string type = "User") => new()
    {
        ["login"] = login,
        ["id"] = id,
        ["node_id"] = NodeId("U", id),
        ["avatar_url"] = $"https://avatars.githubusercontent.com/u/{id}?v=4",
        ["gravatar_id"] = "",
        ["url"] = new Uri(api, $"users/{login}").ToString(),
        ["html_url"] = $"https://github.com/{login}",
        ["followers_url"] = new Uri(api, $"users/{login}/followers").ToString(),
        ["following_url"] = new Uri(api, $"users/{login}/following").ToString() + "{/other_user}",
        ["gists_url"] = new Uri(api, $"users/{login}/gists").ToString() + "{/gist_id}",
        ["starred_url"] = new Uri(api, $"users/{login}/starred").ToString() + "{/owner}{/repo}",
        ["subscriptions_url"] = new Uri(api, $"users/{login}/subscriptions").ToString(),
        ["organizations_url"] = new Uri(api, $"users/{login}/orgs").ToString(),
        ["repos_url"] = new Uri(api, $"users/{login}/repos").ToString(),
        ["events_url"] = new Uri(api, $"users/{login}/events").ToString() + "{/privacy}",
        ["received_events_url"] = new Uri(api, $"users/{login}/received_events").ToString(),
        ["type"] = type,
        ["site_admin"] = false,
    };

    /// <summary>GitHub's <c>installation</c> (REST description, components/schemas/installation: every required field).</summary>
    public static JsonObject Installation(Uri api, long id, long appId, string accountLogin) => new()
    {
        ["id"] = id,
        ["account"] = User(api, accountLogin, id + 7, "Organization"),
        ["repository_selection"] = "selected",
        ["access_tokens_url"] = new Uri(api, $"app/installations/{id}/access_tokens").ToString(),
        ["repositories_url"] = new Uri(api, "installation/repositories").ToString(),
        ["html_url"] = $"https://github.com/organizations/{accountLogin}/settings/installations/{id}",
        ["app_id"] = appId,
        ["app_slug"] = "deployfunctions",
        ["target_id"] = id + 7,
        ["target_type"] = "Organization",
        ["permissions"] = new JsonObject { ["deployments"] = "write", ["metadata"] = "read", ["pull_requests"] = "read" },
        ["events"] = new JsonArray("deployment", "deployment_status", "pull_request"),
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["updated_at"] = "2026-01-01T00:00:00Z",
        ["single_file_name"] = null,
        ["suspended_by"] = null,
        ["suspended_at"] = null,
    };

    public static JsonObject Repository(Uri api, StandInRepository repository)
    {
        var url = new Uri(api, $"repos/{repository.FullName}").ToString();
        var repositoryJson = new JsonObject
        {
            ["id"] = repository.Id,
            ["node_id"] = NodeId("R", repository.Id),
            ["name"] = repository.Name,
            ["full_name"] = repository.FullName,
            ["private"] = false,
            ["owner"] = User(api, repository.Owner, repository.Id + 1),
            ["html_url"] = $"https://github.com/{repository.FullName}",
            ["description"] = null,
            ["fork"] = repository.Fork,
            ["url"] = url,
            ["deployments_url"] = url + "/deployments",
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["updated_at"] = "2026-01-01T00:00:00Z",
            ["pushed_at"] = "2026-01-01T00:00:00Z",
            ["git_url"] = $"git://github.com/{repository.FullName}.git",
            ["ssh_url"] = $"git@github.com:{repository.FullName}.git",
            ["clone_url"] = $"https://github.com/{repository.FullName}.git",
            ["homepage"] = null,
            ["size"] = 0,
            ["stargazers_count"] = 0,
            ["watchers_count"] = 0,
            ["language"] = null,
            ["has_issues"] = true,
            ["has_projects"] = true,
            ["has_downloads"] = true,
            ["has_wiki"] = true,
            ["has_pages"] = false,
            ["forks_count"] = 0,
            ["mirror_url"] = null,
            ["archived"] = false,
            ["disabled"] = false,
            ["open_issues_count"] = 0,
            ["license"] = null,
            ["forks"] = 0,
            ["open_issues"] = 0,
            ["watchers"] = 0,
            ["default_branch"] = repository.DefaultBranch,
        };
        // The URL templates every repository object carries (GitHub's repository-webhooks schema requires them all).
        foreach (var (name, template) in RepositoryUrlTemplates)
        {
            repositoryJson[name] = url + template;
        }

        repositoryJson["svn_url"] = $"https://github.com/{repository.FullName}";
        return repositoryJson;
    }

    private static readonly (string Name, string Template)[] RepositoryUrlTemplates =
    [
        ("archive_url", "/{archive_format}{/ref}"), ("assignees_url", "/assignees{/user}"), ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"), ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"), ("commits_url", "/commits{/sha}"), ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"), ("contributors_url", "/contributors"), ("downloads_url", "/downloads"),
        ("events_url", "/events"), ("forks_url", "/forks"), ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"), ("git_tags_url", "/git/tags{/sha}"), ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"), ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"), ("keys_url", "/keys{/key_id}"), ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"), ("merges_url", "/merges"), ("milestones_url", "/milestones{/number}"),
        ("notifications_url", "/notifications{?since,all,participating}"), ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"), ("stargazers_url", "/stargazers"), ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"), ("tags_url", "/tags"),
        ("teams_url", "/teams"), ("trees_url", "/git/trees{/sha}"),
    ];

    public static JsonObject Deployment(Uri api, StandInRepository repository, StandInDeployment deployment)
    {
        var url = new Uri(api, $"repos/{repository.FullName}/deployments/{deployment.Id}").ToString();
        return new JsonObject
        {
            ["url"] = url,
            ["id"] = deployment.Id,
            ["node_id"] = NodeId("DE", deployment.Id),
            ["sha"] = deployment.Sha,
            ["ref"] = deployment.Ref,
            ["task"] = deployment.Task,
            ["payload"] = deployment.Payload?.DeepClone() ?? new JsonObject(),
            ["original_environment"] = deployment.Environment,
            ["environment"] = deployment.Environment,
            ["description"] = deployment.Description,
            ["creator"] = User(api, deployment.Creator, 9000),
            ["created_at"] = Time(deployment.CreatedAt),
            ["updated_at"] = Time(deployment.CreatedAt),
            ["statuses_url"] = url + "/statuses",
            ["repository_url"] = new Uri(api, $"repos/{repository.FullName}").ToString(),
            ["transient_environment"] = false,
            ["production_environment"] = deployment.Environment == "production",
            ["performed_via_github_app"] = null,
        };
    }

    public static JsonObject DeploymentStatus(Uri api, StandInRepository repository, StandInDeployment deployment, StandInStatus status)
    {
        var deploymentUrl = new Uri(api, $"repos/{repository.FullName}/deployments/{deployment.Id}").ToString();
        return new JsonObject
        {
            ["url"] = $"{deploymentUrl}/statuses/{status.Id}",
            ["id"] = status.Id,
            ["node_id"] = NodeId("DES", status.Id),
            ["state"] = status.State,
            ["creator"] = User(api, deployment.Creator, 9000),
            ["description"] = status.Description ?? "",
            ["environment"] = status.Environment ?? deployment.Environment,
            ["target_url"] = status.LogUrl ?? "",
            ["log_url"] = status.LogUrl ?? "",
            ["environment_url"] = status.EnvironmentUrl ?? "",
            ["created_at"] = Time(status.CreatedAt),
            ["updated_at"] = Time(status.CreatedAt),
            ["deployment_url"] = deploymentUrl,
            ["repository_url"] = new Uri(api, $"repos/{repository.FullName}").ToString(),
            ["performed_via_github_app"] = null,
        };
    }

    private static long UserId(string login) => 10_000 + (uint)login.ToLowerInvariant().GetHashCode(StringComparison.Ordinal) % 1_000_000;

    /// <summary>A user by login alone (a stable id derived from it).</summary>
    public static JsonObject Person(Uri api, string login, string type = "User") => User(api, login, UserId(login), type);

    private static JsonObject Link(string href) => new() { ["href"] = href };

    /// <summary>GitHub's <c>pull-request</c> (REST, components/schemas/pull-request: every required field).</summary>
    public static JsonObject PullRequest(Uri api, StandInPullRequest pull)
    {
        var repository = pull.Repository;
        var url = new Uri(api, $"repos/{repository.FullName}/pulls/{pull.Number}").ToString();
        var issueUrl = new Uri(api, $"repos/{repository.FullName}/issues/{pull.Number}").ToString();
        var html = $"https://github.com/{repository.FullName}/pull/{pull.Number}";
        var statuses = new Uri(api, $"repos/{repository.FullName}/statuses/{pull.HeadSha}").ToString();
        var closed = pull.State == "closed" ? Time(pull.CreatedAt.AddHours(1)) : null;
        return new JsonObject
        {
            ["url"] = url,
            ["id"] = pull.Number * 1000 + repository.Id,
            ["node_id"] = NodeId("PR", pull.Number),
            ["html_url"] = html,
            ["diff_url"] = html + ".diff",
            ["patch_url"] = html + ".patch",
            ["issue_url"] = issueUrl,
            ["commits_url"] = url + "/commits",
            ["review_comments_url"] = url + "/comments",
            ["review_comment_url"] = new Uri(api, $"repos/{repository.FullName}/pulls/comments").ToString() + "{/number}",
            ["comments_url"] = issueUrl + "/comments",
            ["statuses_url"] = statuses,
            ["number"] = pull.Number,
            ["state"] = pull.State,
            ["locked"] = false,
            ["title"] = pull.Title,
            ["user"] = Person(api, pull.Author),
            ["body"] = null,
            ["labels"] = new JsonArray(),
            ["milestone"] = null,
            ["active_lock_reason"] = null,
            ["created_at"] = Time(pull.CreatedAt),
            ["updated_at"] = Time(pull.CreatedAt),
            ["closed_at"] = closed,
            ["merged_at"] = null,
            ["merge_commit_sha"] = null,
            ["assignee"] = null,
            ["assignees"] = new JsonArray(),
            ["requested_reviewers"] = new JsonArray(),
            ["requested_teams"] = new JsonArray(),
            ["head"] = End(api, pull.HeadRepository, pull.HeadRef, pull.HeadSha),
            ["base"] = End(api, repository, pull.BaseRef, new string('b', 40)),
            ["_links"] = new JsonObject
            {
                ["self"] = Link(url), ["html"] = Link(html), ["issue"] = Link(issueUrl), ["comments"] = Link(issueUrl + "/comments"),
                ["review_comments"] = Link(url + "/comments"), ["review_comment"] = Link(new Uri(api, $"repos/{repository.FullName}/pulls/comments").ToString() + "{/number}"),
                ["commits"] = Link(url + "/commits"), ["statuses"] = Link(statuses),
            },
            ["author_association"] = "MEMBER",
            ["auto_merge"] = null,
            ["draft"] = false,
            ["merged"] = false,
            ["mergeable"] = true,
            ["rebaseable"] = true,
            ["mergeable_state"] = "clean",
            ["merged_by"] = null,
            ["comments"] = 0,
            ["review_comments"] = 0,
            ["maintainer_can_modify"] = false,
            ["commits"] = 1,
            ["additions"] = 1,
            ["deletions"] = 0,
            ["changed_files"] = 1,
        };
    }

    private static JsonObject End(Uri api, StandInRepository repository, string reference, string sha) => new()
    {
        ["label"] = $"{repository.Owner}:{reference}",
        ["ref"] = reference,
        ["sha"] = sha,
        ["user"] = User(api, repository.Owner, repository.Id + 1),
        ["repo"] = FullRepository(api, repository),
    };

    /// <summary>GitHub's REST <c>repository</c>: the webhook shape plus what the REST description requires besides.</summary>
    public static JsonObject FullRepository(Uri api, StandInRepository repository)
    {
        var json = Repository(api, repository);
        json["fork"] = repository.Fork;
        json["visibility"] = "public";
        json["topics"] = new JsonArray();
        json["allow_forking"] = true;
        json["is_template"] = false;
        json["web_commit_signoff_required"] = false;
        return json;
    }

    /// <summary>GitHub's <c>pull-request-review</c>.</summary>
    public static JsonObject Review(Uri api, StandInPullRequest pull, StandInReview review)
    {
        var html = $"https://github.com/{pull.Repository.FullName}/pull/{pull.Number}";
        var pullUrl = new Uri(api, $"repos/{pull.Repository.FullName}/pulls/{pull.Number}").ToString();
        return new JsonObject
        {
            ["id"] = review.Id,
            ["node_id"] = NodeId("PRR", review.Id),
            ["user"] = Person(api, review.User),
            ["body"] = "",
            ["state"] = review.State,
            ["html_url"] = $"{html}#pullrequestreview-{review.Id}",
            ["pull_request_url"] = pullUrl,
            ["_links"] = new JsonObject { ["html"] = Link($"{html}#pullrequestreview-{review.Id}"), ["pull_request"] = Link(pullUrl) },
            ["submitted_at"] = Time(review.SubmittedAt),
            ["commit_id"] = review.CommitId,
            ["author_association"] = "MEMBER",
        };
    }

    private static JsonObject Reactions(string url) => new()
    {
        ["url"] = url, ["total_count"] = 0, ["+1"] = 0, ["-1"] = 0, ["laugh"] = 0, ["confused"] = 0, ["heart"] = 0,
        ["hooray"] = 0, ["eyes"] = 0, ["rocket"] = 0,
    };

    /// <summary>GitHub's <c>issue-comment</c> (REST), which also fits the <c>issue_comment</c> webhook's <c>comment</c>.</summary>
    public static JsonObject Comment(Uri api, StandInComment comment)
    {
        var repository = comment.Repository.FullName;
        var url = new Uri(api, $"repos/{repository}/issues/comments/{comment.Id}").ToString();
        return new JsonObject
        {
            ["id"] = comment.Id,
            ["node_id"] = NodeId("IC", comment.Id),
            ["url"] = url,
            ["html_url"] = $"https://github.com/{repository}/pull/{comment.Number}#issuecomment-{comment.Id}",
            ["body"] = comment.Body,
            ["user"] = Person(api, comment.User, comment.UserType),
            ["created_at"] = Time(comment.CreatedAt),
            ["updated_at"] = Time(comment.CreatedAt),
            ["issue_url"] = new Uri(api, $"repos/{repository}/issues/{comment.Number}").ToString(),
            ["author_association"] = comment.UserType == "Bot" ? "NONE" : "MEMBER",
            ["performed_via_github_app"] = null,
            ["reactions"] = Reactions(url + "/reactions"),
        };
    }

    /// <summary>The <c>issue</c> of an <c>issue_comment</c> webhook on a pull request (the pull request seen as an issue).</summary>
    public static JsonObject PullRequestIssue(Uri api, StandInPullRequest pull)
    {
        var repository = pull.Repository.FullName;
        var url = new Uri(api, $"repos/{repository}/issues/{pull.Number}").ToString();
        var html = $"https://github.com/{repository}/pull/{pull.Number}";
        return new JsonObject
        {
            ["url"] = url,
            ["repository_url"] = new Uri(api, $"repos/{repository}").ToString(),
            ["labels_url"] = url + "/labels{/name}",
            ["comments_url"] = url + "/comments",
            ["events_url"] = url + "/events",
            ["html_url"] = html,
            ["id"] = pull.Number * 1000 + pull.Repository.Id,
            ["node_id"] = NodeId("PR", pull.Number),
            ["number"] = pull.Number,
            ["title"] = pull.Title,
            ["user"] = Person(api, pull.Author),
            ["labels"] = new JsonArray(),
            ["state"] = pull.State,
            ["locked"] = false,
            ["assignee"] = null,
            ["assignees"] = new JsonArray(),
            ["milestone"] = null,
            ["comments"] = 0,
            ["created_at"] = Time(pull.CreatedAt),
            ["updated_at"] = Time(pull.CreatedAt),
            ["closed_at"] = pull.State == "closed" ? Time(pull.CreatedAt.AddHours(1)) : null,
            ["author_association"] = "MEMBER",
            ["active_lock_reason"] = null,
            ["body"] = null,
            ["reactions"] = Reactions(url + "/reactions"),
            ["pull_request"] = new JsonObject
            {
                ["url"] = new Uri(api, $"repos/{repository}/pulls/{pull.Number}").ToString(),
                ["html_url"] = html,
                ["diff_url"] = html + ".diff",
                ["patch_url"] = html + ".patch",
                ["merged_at"] = null,
            },
        };
    }

    /// <summary>GitHub's <c>reaction</c>.</summary>
    public static JsonObject Reaction(Uri api, StandInReaction reaction) => new()
    {
        ["id"] = reaction.Id,
        ["node_id"] = NodeId("REA", reaction.Id),
        ["user"] = Person(api, reaction.User, "Bot"),
        ["content"] = reaction.Content,
        ["created_at"] = Time(reaction.CreatedAt),
    };

    /// <summary>GitHub's <c>repository-collaborator-permission</c>: <c>permission</c> is the classic level, <c>role_name</c> the role.</summary>
    public static JsonObject CollaboratorPermission(Uri api, string login, string role)
    {
        var user = Person(api, login);
        user["role_name"] = role;
        return new JsonObject
        {
            ["permission"] = role switch { "maintain" => "write", "triage" => "read", _ => role },
            ["role_name"] = role,
            ["user"] = user,
        };
    }

    /// <summary>GitHub's <c>team-membership</c>.</summary>
    public static JsonObject TeamMembership(Uri api, string org, string team, string login) => new()
    {
        ["url"] = new Uri(api, $"orgs/{org}/teams/{team}/memberships/{login}").ToString(),
        ["role"] = "member",
        ["state"] = "active",
    };

    /// <summary>GitHub's <c>branch-with-protection</c>, with the head <c>commit</c>.</summary>
    public static JsonObject Branch(Uri api, StandInRepository repository, string branch, string sha)
    {
        var repo = new Uri(api, $"repos/{repository.FullName}").ToString();
        var author = User(api, repository.Owner, repository.Id + 1);
        var signature = new JsonObject { ["name"] = repository.Owner, ["email"] = $"{repository.Owner}@users.noreply.github.com", ["date"] = "2026-01-01T00:00:00Z" };
        return new JsonObject
        {
            ["name"] = branch,
            ["commit"] = new JsonObject
            {
                ["url"] = $"{repo}/commits/{sha}",
                ["sha"] = sha,
                ["node_id"] = NodeId("C", repository.Id),
                ["html_url"] = $"https://github.com/{repository.FullName}/commit/{sha}",
                ["comments_url"] = $"{repo}/commits/{sha}/comments",
                ["commit"] = new JsonObject
                {
                    ["url"] = $"{repo}/git/commits/{sha}",
                    ["author"] = signature,
                    ["committer"] = signature.DeepClone(),
                    ["message"] = $"Head of {branch}",
                    ["comment_count"] = 0,
                    ["tree"] = new JsonObject { ["sha"] = new string('t', 40), ["url"] = $"{repo}/git/trees/{new string('t', 40)}" },
                    ["verification"] = new JsonObject { ["verified"] = false, ["reason"] = "unsigned", ["payload"] = null, ["signature"] = null, ["verified_at"] = null },
                },
                ["author"] = author,
                ["committer"] = author.DeepClone(),
                ["parents"] = new JsonArray(),
            },
            ["_links"] = new JsonObject { ["html"] = $"https://github.com/{repository.FullName}/tree/{branch}", ["self"] = $"{repo}/branches/{branch}" },
            ["protected"] = false,
            ["protection"] = new JsonObject { ["enabled"] = false },
            ["protection_url"] = $"{repo}/branches/{branch}/protection",
        };
    }

    /// <summary>GitHub's <c>content-file</c>: the file base64-encoded in lines of 60, as GitHub sends it.</summary>
    public static JsonObject ContentFile(Uri api, StandInRepository repository, string path, byte[] bytes, string blobSha)
    {
        var url = new Uri(api, $"repos/{repository.FullName}/contents/{path}").ToString();
        var git = new Uri(api, $"repos/{repository.FullName}/git/blobs/{blobSha}").ToString();
        var html = $"https://github.com/{repository.FullName}/blob/{repository.DefaultBranch}/{path}";
        var base64 = Convert.ToBase64String(bytes);
        return new JsonObject
        {
            ["type"] = "file",
            ["encoding"] = "base64",
            ["size"] = bytes.Length,
            ["name"] = path[(path.LastIndexOf('/') + 1)..],
            ["path"] = path,
            ["content"] = string.Join('\n', base64.Chunk(60).Select(c => new string(c))) + "\n",
            ["sha"] = blobSha,
            ["url"] = url,
            ["git_url"] = git,
            ["html_url"] = html,
            ["download_url"] = $"https://raw.githubusercontent.com/{repository.FullName}/{repository.DefaultBranch}/{path}",
            ["_links"] = new JsonObject { ["self"] = url, ["git"] = git, ["html"] = html },
        };
    }

    /// <summary>GitHub's <c>combined-commit-status</c>; no status known: <c>pending</c> with none, as GitHub answers.</summary>
    public static JsonObject CombinedStatus(Uri api, StandInRepository repository, string sha, (string State, string Context)? status, DateTimeOffset at)
    {
        var statuses = new JsonArray();
        if (status is { } known)
        {
            statuses.Add(new JsonObject
            {
                ["url"] = new Uri(api, $"repos/{repository.FullName}/statuses/{sha}").ToString(),
                ["avatar_url"] = null,
                ["id"] = 1,
                ["node_id"] = NodeId("SC", 1),
                ["state"] = known.State,
                ["description"] = null,
                ["target_url"] = null,
                ["context"] = known.Context,
                ["created_at"] = Time(at),
                ["updated_at"] = Time(at),
            });
        }

        return new JsonObject
        {
            ["state"] = status?.State ?? "pending",
            ["statuses"] = statuses,
            ["sha"] = sha,
            ["total_count"] = statuses.Count,
            ["repository"] = Repository(api, repository),
            ["commit_url"] = new Uri(api, $"repos/{repository.FullName}/commits/{sha}").ToString(),
            ["url"] = new Uri(api, $"repos/{repository.FullName}/commits/{sha}/status").ToString(),
        };
    }

    /// <summary>GitHub's <c>hook-delivery-item</c>.</summary>
    public static JsonObject HookDelivery(StandInDelivery delivery) => new()
    {
        ["id"] = delivery.Id,
        ["guid"] = delivery.DeliveryGuid,
        ["delivered_at"] = Time(delivery.DeliveredAt),
        ["redelivery"] = delivery.Redelivery,
        ["duration"] = 0.05,
        ["status"] = delivery.StatusCode switch { 0 => "No response", >= 200 and < 300 => "OK", _ => $"Invalid HTTP Response: {delivery.StatusCode}" },
        ["status_code"] = delivery.StatusCode,
        ["event"] = delivery.Event,
        ["action"] = delivery.Action,
        ["installation_id"] = null,
        ["repository_id"] = null,
        ["throttled_at"] = null,
    };

    /// <summary>GitHub's <c>status</c> (a commit status).</summary>
    public static JsonObject CommitStatus(Uri api, StandInRepository repository, string sha, long id, string state, string context, string? description, DateTimeOffset at) => new()
    {
        ["url"] = new Uri(api, $"repos/{repository.FullName}/statuses/{sha}").ToString(),
        ["avatar_url"] = "https://avatars.githubusercontent.com/u/9000?v=4",
        ["id"] = id,
        ["node_id"] = NodeId("SC", id),
        ["state"] = state,
        ["description"] = description,
        ["target_url"] = null,
        ["context"] = context,
        ["created_at"] = Time(at),
        ["updated_at"] = Time(at),
        ["creator"] = Person(api, "deployfunctions-standin[bot]", "Bot"),
    };

    private static string NodeId(string prefix, long id) =>
        Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"0{prefix}{id}"));
}
