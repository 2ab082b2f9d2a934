using DeployFunctions.Functions;
using DeployFunctions.Tests.Support;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Host;

/// <summary>Program's service registration, as the host would build it at start-up.</summary>
public sealed class CompositionTests
{
    private const string Azurite = "UseDevelopmentStorage=true";

    [Fact]
    public void Every_function_class_resolves_from_the_real_composition()
    {
        using var services = TestHost.Services(Azurite);
        services.GetRequiredService<IStartupValidator>().Validate();

        var functionTypes = typeof(DeployFunctionsServices).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes(typeof(Microsoft.Azure.Functions.Worker.FunctionAttribute), false).Length > 0))
            .ToList();

        Assert.Equal(7, functionTypes.Count);
        Assert.All(functionTypes, type => Assert.NotNull(services.GetRequiredService(type)));
        Assert.NotNull(services.GetRequiredService<WebhookIngressFunction>());
    }

    [Theory]
    [InlineData("true", null)]
    [InlineData("false", "chat commands are off (Commands__Enabled)")]
    [InlineData("/", "the comment's first line is not a command (/deploy")]
    public void The_ingress_routes_comments_by_the_composed_command_settings(string setting, string? ignoredBecause)
    {
        using var services = TestHost.Services(Azurite, s =>
        {
            if (setting == "/")
            {
                s["Commands:Prefix"] = "/";
            }
            else
            {
                s["Commands:Enabled"] = setting;
            }
        });
        var payload = WebhookExamples.Get("issue_comment", "created");
        payload["comment"]!["body"] = ".deploy to production";
        payload["issue"]!["pull_request"] = new System.Text.Json.Nodes.JsonObject { ["url"] = "https://api.github.com/repos/Codertocat/Hello-World/pulls/1" }; // DERIVED: on a pull request
        var body = WebhookExamples.Bytes(payload);

        var result = services.GetRequiredService<DeliveryIntake>().Evaluate(new DeliveryHeaders
        {
            Event = "issue_comment", DeliveryId = "d-1", Signature256 = Deliveries.Sign(body), ContentType = "application/json",
        }, body);

        var route = Assert.IsType<IntakeResult.Accepted>(result).Route;
        if (ignoredBecause is null)
        {
            Assert.Equal(new DeliveryRoute.Queued(DeliveryQueueKind.Commands), route);
        }
        else
        {
            Assert.Contains(ignoredBecause, Assert.IsType<DeliveryRoute.Ignored>(route).Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_a_webhook_secret_start_up_fails_naming_the_setting()
    {
        var message = StartUpFailure(settings => settings.Remove("Webhook:Secrets:0"));

        Assert.Contains("Webhook__Secrets__0", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blank_secret_counts_as_missing()
    {
        Assert.Contains("Webhook__Secrets__0", StartUpFailure(settings => settings["Webhook:Secrets:0"] = "  "), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> SecretsThatCannotBeReal => new()
    {
        // App Service leaves the reference text in place when it cannot resolve it; the names are derivable from the host name.
        { "Webhook:Secrets:0", "@Microsoft.KeyVault(VaultName=kvabc123;SecretName=webhook-secret)", "Webhook__Secrets__0" },
        { "Webhook:Secrets:0", "replace-with-your-webhook-secret", "Webhook__Secrets__0" },
        { "Webhook:Secrets:0", "fifteen-chars!!", "Webhook__Secrets__0" },
        { "Webhook:Secrets:1", "@Microsoft.KeyVault(SecretUri=https://kvabc123.vault.azure.net/secrets/webhook-secret-next/)", "Webhook__Secrets__1" },
        { "GitHub:Token", "@Microsoft.KeyVault(VaultName=kvabc123;SecretName=github-token)", "GitHub__Token" },
        { "Notifications:WebhookUrl", "@Microsoft.KeyVault(VaultName=kvabc123;SecretName=notification-webhook-url)", "Notifications__WebhookUrl" },
        { "Environments:production:Secret", "@Microsoft.KeyVault(VaultName=kvabc123;SecretName=hook)", "Environments__production__Secret" },
        // Judged after trimming: a reference with a leading space or newline is still a reference; a short secret padded out
        // with a trailing newline is still short.
        { "Webhook:Secrets:0", " @Microsoft.KeyVault(VaultName=kvabc123;SecretName=webhook-secret)", "Webhook__Secrets__0" },
        { "GitHub:Token", "\n@Microsoft.KeyVault(VaultName=kvabc123;SecretName=github-token)", "GitHub__Token" },
        { "Webhook:Secrets:0", "fifteen-chars!!\n", "Webhook__Secrets__0" },
        { "Webhook:Secrets:0", "  fifteen-chars!!  ", "Webhook__Secrets__0" },
    };

    [Fact]
    public void A_deploy_hook_secret_shorter_than_a_webhook_secret_stops_start_up()
    {
        var message = StartUpFailure(settings =>
        {
            settings["Environments:production:Provider"] = "http";
            settings["Environments:production:Url"] = "https://hooks.example.com/deploy";
            settings["Environments:production:Secret"] = "hook-secret";
        });

        Assert.Contains("Environments__production__Secret is shorter than 16 characters", message, StringComparison.Ordinal);
        Assert.DoesNotContain("hook-secret", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_deploys_until_the_operator_names_the_repositories_that_may()
    {
        var message = StartUpFailure(settings => settings.Remove("Deploy:Repositories"));

        Assert.Contains("Deploy__Repositories is empty", message, StringComparison.Ordinal);
        Assert.Contains("* for every repository", message, StringComparison.Ordinal);
        Assert.Contains("Deploy__Repositories entry 'octo/a*'", StartUpFailure(settings => settings["Deploy:Repositories"] = "octo/a*"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("300", "4", "WatchdogMinutes (4) must be longer than the provider's own wait (300 s)")]
    [InlineData("3000", "120", "TimeoutSeconds (3000 s) plus a minute is longer than host.json's functionTimeout (00:10:00)")]
    public void Settings_that_contradict_each_other_stop_start_up(string timeoutSeconds, string watchdogMinutes, string why)
    {
        var message = StartUpFailure(settings =>
        {
            settings["Environments:production:Provider"] = "http";
            settings["Environments:production:Url"] = "https://hooks.example.com/deploy";
            settings["Environments:production:Secret"] = "a-hook-secret-of-some-length";
            settings["Environments:production:TimeoutSeconds"] = timeoutSeconds;
            settings["Environments:production:WatchdogMinutes"] = watchdogMinutes;
        });

        Assert.Contains("Environments__production__" + why, message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SecretsThatCannotBeReal))]
    public void A_secret_that_cannot_be_the_real_one_stops_start_up_naming_the_setting_not_the_value(string key, string value, string setting)
    {
        var message = StartUpFailure(settings => settings[key] = value);

        Assert.Contains(setting, message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unresolved_Key_Vault_reference_for_the_App_key_says_so_rather_than_calling_it_a_bad_pem()
    {
        var message = StartUpFailure(settings =>
        {
            settings.Remove("GitHub:Token");
            settings["GitHub:AppId"] = "12345";
            settings["GitHub:AppPrivateKey"] = "@Microsoft.KeyVault(VaultName=kvabc123;SecretName=github-app-private-key)";
        });

        Assert.Contains("GitHub__AppPrivateKey is an unresolved Key Vault reference", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_left_beside_App_settings_is_refused_with_what_to_remove()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var message = StartUpFailure(settings =>
        {
            settings["GitHub:AppId"] = "12345";
            settings["GitHub:AppPrivateKey"] = rsa.ExportPkcs8PrivateKeyPem();
        });

        Assert.Contains("remove GitHub__Token", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_http_provider_as_default_without_the_environments_hook_stops_start_up_instead_of_failing_a_deployment_later()
    {
        var message = StartUpFailure(settings => settings["Deploy:DefaultProvider"] = "http");

        Assert.Contains("Environments__production__Url", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_deploy_hook_client_waits_as_long_as_the_environment_says_not_HttpClients_100_seconds()
    {
        using var services = TestHost.Services(Azurite);

        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(DeployFunctions.Providers.HttpDeployHookProvider));

        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
    }

    [Fact]
    public void Validation_messages_never_contain_the_secret()
    {
        var message = StartUpFailure(settings =>
        {
            settings["Webhook:Secrets:0"] = "super-secret-value";
            settings["Webhook:MaxBodyBytes"] = "-1";
        });

        Assert.Contains("Webhook__MaxBodyBytes", message, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret-value", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PullRequestsQueue", "Pull_Requests")]
    [InlineData("DeploymentsQueue", "ab")]
    [InlineData("DeploymentStatusesQueue", "a-very-long-queue-name-that-leaves-no-room-for-the-poison-suffix")]
    public void Invalid_queue_names_fail_start_up_naming_the_setting(string setting, string value)
    {
        var message = StartUpFailure(settings => settings[setting] = value);

        Assert.Contains(setting, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_storage_fails_with_a_message_naming_AzureWebJobsStorage()
    {
        var exception = Assert.Throws<InvalidOperationException>(
            () => TestHost.Services(Azurite, settings => settings.Remove("AzureWebJobsStorage")));

        Assert.Contains("set AzureWebJobsStorage", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_based_storage_settings_are_accepted()
    {
        using var services = TestHost.Services(Azurite, settings =>
        {
            settings.Remove("AzureWebJobsStorage");
            settings["AzureWebJobsStorage:queueServiceUri"] = "https://example.queue.core.windows.net";
            settings["AzureWebJobsStorage:blobServiceUri"] = "https://example.blob.core.windows.net";
            settings["AzureWebJobsStorage:tableServiceUri"] = "https://example.table.core.windows.net";
            settings["AzureWebJobsStorage:credential"] = "managedidentity";
            settings["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001";
        });

        var queues = services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>();

        Assert.Equal("https://example.queue.core.windows.net/", queues.Uri.ToString());
    }

    [Theory]
    [InlineData("Commands:OutdatedMode", "lenient", "Commands__OutdatedMode must be one of strict, pr_base, default_branch")]
    [InlineData("Commands:UpdateBranch", "merge", "Commands__UpdateBranch must be one of warn, force, disabled")]
    public void An_outdated_branch_setting_outside_its_values_stops_start_up(string setting, string value, string message)
    {
        Assert.Contains(message, StartUpFailure(s => s[setting] = value), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "Targets__shared__Repositories must name the repositories granted the target")]
    [InlineData("octo", "Targets__shared__Repositories must name the repositories granted the target")]
    [InlineData("octo/*;*/web", "Targets__shared__Repositories must name the repositories granted the target")]
    public void A_target_granted_to_no_repository_or_to_a_pattern_that_is_not_one_stops_start_up(string? repositories, string message)
    {
        Assert.Contains(message, StartUpFailure(s =>
        {
            s["Targets:shared:Provider"] = "simulated";
            s["Targets:shared:Repositories"] = repositories;
        }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_is_checked_for_what_its_provider_needs_by_its_own_setting_names()
    {
        Assert.Contains("Targets__hook__Url and Targets__hook__Secret are required for the http provider", StartUpFailure(s =>
        {
            s["Targets:hook:Provider"] = "http";
            s["Targets:hook:Repositories"] = "octo/*";
        }), StringComparison.Ordinal);
    }

    /// <summary>The message start-up validation fails with, on the test settings changed by <paramref name="change"/>.</summary>
    private static string StartUpFailure(Action<Dictionary<string, string?>> change)
    {
        using var services = TestHost.Services(Azurite, change);
        return Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate()).Message;
    }
}
