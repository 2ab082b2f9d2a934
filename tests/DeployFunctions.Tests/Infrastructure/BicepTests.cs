using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.Infrastructure;

/// <summary>Compiles infra/ once with the Bicep CLI from NuGet; the tests read the ARM JSON it produces.</summary>
public sealed class CompiledInfrastructure
{
    public CompiledInfrastructure()
    {
        var build = Bicep("build", RepositoryRoot.Combine("infra", "main.bicep"), "--stdout");
        Assert.True(build.ExitCode == 0, build.Error);
        Template = JsonNode.Parse(build.Output)!.AsObject();
        Lint = Bicep("lint", RepositoryRoot.Combine("infra", "main.bicep"));
    }

    public JsonObject Template { get; }

    public (int ExitCode, string Output, string Error) Lint { get; }

    public static string Cli => BicepCli.Path ?? throw new InvalidOperationException(BicepCli.Missing);

    /// <summary>The nested template of module <paramref name="name"/>.</summary>
    public JsonObject Module(string name) => Deployment(name)["properties"]!["template"]!.AsObject();

    public JsonObject Deployment(string name) =>
        Resources(Template).Single(r => (string?)r["type"] == "Microsoft.Resources/deployments" && (string?)r["name"] == name);

    public static IEnumerable<JsonObject> Resources(JsonObject template) => template["resources"] switch
    {
        JsonArray array => array.Select(r => r!.AsObject()),
        JsonObject map => map.Select(p => p.Value!.AsObject()),
        _ => [],
    };

    public IEnumerable<JsonObject> AllResources() => Walk(Template);

    private static IEnumerable<JsonObject> Walk(JsonObject template)
    {
        foreach (var resource in Resources(template))
        {
            yield return resource;
            if ((string?)resource["type"] == "Microsoft.Resources/deployments")
            {
                foreach (var inner in Walk(resource["properties"]!["template"]!.AsObject()))
                {
                    yield return inner;
                }
            }
        }
    }

    private static (int ExitCode, string Output, string Error) Bicep(params string[] arguments)
    {
        var start = new ProcessStartInfo(Cli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}

public sealed class BicepTests(CompiledInfrastructure infra) : IClassFixture<CompiledInfrastructure>
{
    private static readonly string[] SecretSettings =
        ["Webhook__Secrets__0", "Webhook__Secrets__1", "GitHub__Token", "GitHub__AppPrivateKey", "Notifications__WebhookUrl",
         "Environments__production__Url", "Environments__production__Secret", "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"];

    private JsonObject Single(string type) => infra.AllResources().Single(r => (string?)r["type"] == type);

    [BicepFact]
    public void Templates_compile_and_lint_without_a_single_warning()
    {
        Assert.Equal(0, infra.Lint.ExitCode);
        Assert.Equal("", infra.Lint.Output.Trim() + infra.Lint.Error.Trim());
    }

    [BicepFact]
    public void Storage_allows_no_shared_key_no_public_blobs_and_only_TLS_1_2_over_HTTPS()
    {
        var properties = Single("Microsoft.Storage/storageAccounts")["properties"]!;

        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
    }

    [BicepFact]
    public void Nothing_anywhere_reads_or_writes_a_storage_key_or_connection_string()
    {
        var json = infra.Template.ToJsonString();

        Assert.DoesNotContain("listKeys", json, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey", json, StringComparison.Ordinal);
        Assert.DoesNotContain("'AzureWebJobsStorage'", json, StringComparison.Ordinal);
    }

    [BicepFact]
    public void Function_app_is_flex_consumption_dotnet_10_https_only_tls_1_2_no_ftp_no_remote_debugging()
    {
        var plan = Single("Microsoft.Web/serverfarms");
        var site = Single("Microsoft.Web/sites");
        var properties = site["properties"]!;
        var config = properties["siteConfig"]!;

        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.Equal("dotnet-isolated", (string?)properties["functionAppConfig"]!["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)properties["functionAppConfig"]!["runtime"]!["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)properties["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.True((bool)properties["httpsOnly"]!);
        Assert.Equal("1.2", (string?)config["minTlsVersion"]);
        Assert.Equal("Disabled", (string?)config["ftpsState"]);
        Assert.False((bool)config["remoteDebuggingEnabled"]!);
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        var publishing = infra.AllResources().Where(r => (string?)r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, publishing.Count);
        Assert.All(publishing, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [BicepFact]
    public void Host_storage_is_identity_based()
    {
        var settings = infra.Module("function")["variables"]!["platformSettings"]!.AsObject();

        Assert.Equal("managedidentity", (string?)settings["AzureWebJobsStorage__credential"]);
        foreach (var key in new[] { "AzureWebJobsStorage__clientId", "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri" })
        {
            Assert.True(settings.ContainsKey(key), key);
        }

        Assert.StartsWith("[format('ClientId={0};Authorization=AAD'", (string?)settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        Assert.False(settings.ContainsKey("FUNCTIONS_WORKER_RUNTIME")); // Flex Consumption takes the runtime from functionAppConfig
    }

    [BicepFact]
    public void Every_setting_of_the_local_sample_is_an_app_setting()
    {
        var sample = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")))!["Values"]!.AsObject();
        var appSettings = AppSettingsExpression();

        foreach (var (key, _) in sample)
        {
            if (key is "AzureWebJobsStorage" or "FUNCTIONS_WORKER_RUNTIME")
            {
                continue;
            }

            Assert.True(appSettings.Contains($"'{key}', ", StringComparison.Ordinal), $"{key} is not an app setting in infra/main.bicep");
        }
    }

    [BicepFact]
    public void Every_secret_setting_is_a_key_vault_reference()
    {
        var appSettings = AppSettingsExpression();
        var function = (string?)infra.Template["functions"]![0]!["members"]!["keyVaultReference"]!["output"]!["value"];
        Assert.Contains("@Microsoft.KeyVault(VaultName={0};SecretName={1})", function, StringComparison.Ordinal);

        foreach (var key in SecretSettings)
        {
            var pattern = $@"'{key}', (if\(empty\(parameters\('\w+'\)\), '', )?__bicep\.keyVaultReference\(variables\('vaultName'\), '[a-z-]+'\)";
            Assert.Matches(new Regex(pattern), appSettings);
        }

        Assert.Equal("[parameters('identityId')]", Resources("Microsoft.Web/sites").Single()["properties"]!["keyVaultReferenceIdentity"]!.ToString());
    }

    [BicepFact]
    public void Secrets_enter_only_through_secure_parameters_and_no_output_carries_one()
    {
        var parameters = infra.Template["parameters"]!.AsObject();
        string[] secure = ["webhookSecret", "webhookSecretNext", "githubToken", "githubAppPrivateKey", "notificationWebhookUrl",
            "productionHookUrl", "productionHookSecret", "boardSignInSecret"];
        Assert.All(secure, name => Assert.Equal("securestring", (string?)parameters[name]!["type"]));

        var outputs = new[] { infra.Template }.Concat(new[] { "identity", "storage", "monitoring", "keyvault", "roles", "function", "alerts", "workbook" }.Select(infra.Module))
            .SelectMany(t => t["outputs"]?.AsObject().Select(o => o.Value!.ToJsonString()) ?? []);
        foreach (var output in outputs)
        {
            Assert.DoesNotContain("secret", output, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("githubToken", output, StringComparison.Ordinal);
            Assert.DoesNotContain("PrivateKey", output, StringComparison.Ordinal);
        }
    }

    [BicepFact]
    public void Key_vault_uses_RBAC_and_soft_delete_and_purge_protection_is_the_operators_choice_off_by_default()
    {
        var properties = Single("Microsoft.KeyVault/vaults")["properties"]!;

        Assert.True((bool)properties["enableRbacAuthorization"]!);
        Assert.True((bool)properties["enableSoftDelete"]!);
        // Off by default, so `azd down --purge` frees the name; once on, ARM accepts only true or nothing.
        Assert.Equal("[if(parameters('purgeProtection'), true(), null())]", (string?)properties["enablePurgeProtection"]);
        Assert.Equal("false", (string?)infra.Template["parameters"]!["keyVaultPurgeProtection"]!["defaultValue"]);
    }

    [BicepFact]
    public void Application_insights_accepts_only_identity_authenticated_telemetry() =>
        Assert.True((bool)Single("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!);

    [BicepFact]
    public void Log_analytics_accepts_no_shared_key_either() =>
        Assert.True((bool)Single("Microsoft.OperationalInsights/workspaces")["properties"]!["features"]!["disableLocalAuth"]!);

    [BicepFact]
    public void The_operator_can_rotate_secrets_in_the_vault_and_replay_poison_queues_and_nothing_else()
    {
        var operatorRoles = CompiledInfrastructure.Resources(infra.Module("roles")).Where(r =>
            r["properties"]?["principalId"]?.ToString() == "[parameters('operatorPrincipalId')]").ToList();
        Assert.Equal(
            ["variables('keyVaultSecretsOfficer')", "variables('storageQueueDataContributor')"],
            operatorRoles.Select(r => System.Text.RegularExpressions.Regex.Match(r["properties"]!["roleDefinitionId"]!.ToString(), @"variables\('\w+'\)").Value).Order(StringComparer.Ordinal));
        var queueRole = operatorRoles.Single(r => r["properties"]!["roleDefinitionId"]!.ToString().Contains("storageQueueDataContributor", StringComparison.Ordinal));
        Assert.Equal("[not(empty(parameters('operatorPrincipalId')))]", (string?)queueRole["condition"]);
        Assert.Contains("resourceId('Microsoft.Storage/storageAccounts'", queueRole["scope"]!.ToString(), StringComparison.Ordinal);

        var roles = infra.Module("roles");
        Assert.Equal("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", (string?)roles["variables"]!["keyVaultSecretsOfficer"]);
        var operatorRole = CompiledInfrastructure.Resources(roles).Single(r =>
            r["properties"]!["roleDefinitionId"]!.ToString().Contains("variables('keyVaultSecretsOfficer')", StringComparison.Ordinal));

        Assert.Equal("[not(empty(parameters('operatorPrincipalId')))]", (string?)operatorRole["condition"]);
        Assert.Contains("resourceId('Microsoft.KeyVault/vaults'", operatorRole["scope"]!.ToString(), StringComparison.Ordinal);
        var parameters = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("infra", "main.parameters.json")))!["parameters"]!;
        Assert.Equal("${AZURE_PRINCIPAL_ID=}", (string?)parameters["operatorPrincipalId"]!["value"]); // azd fills it with the signed-in user
    }

    [BicepTheory]
    [InlineData("http", "PRODUCTION_HOOK_URL", "productionHookUrl")]
    [InlineData("http", "PRODUCTION_HOOK_SECRET", "productionHookSecret")]
    [InlineData("github-actions", "PRODUCTION_WORKFLOW", "productionWorkflow")]
    public void Every_production_provider_azd_offers_can_get_the_settings_it_needs_through_azd(string provider, string variable, string parameter)
    {
        Assert.Contains(provider, infra.Template["parameters"]!["productionProvider"]!["allowedValues"]!.AsArray().Select(v => (string?)v));
        var parameters = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("infra", "main.parameters.json")))!["parameters"]!;

        Assert.StartsWith("${" + variable, (string?)parameters[parameter]!["value"], StringComparison.Ordinal);
    }

    [BicepTheory]
    [InlineData("storageBlobDataOwner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Microsoft.Storage/storageAccounts")]
    [InlineData("storageQueueDataContributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts")]
    [InlineData("storageTableDataContributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts")]
    [InlineData("keyVaultSecretsUser", "4633458b-17de-408a-b874-0445c86b69e6", "Microsoft.KeyVault/vaults")]
    [InlineData("monitoringMetricsPublisher", "3913510d-42f4-4e42-8a64-420c390055eb", "Microsoft.Insights/components")]
    public void Each_role_is_assigned_to_the_identity_on_its_own_resource(string role, string roleId, string scopeType)
    {
        var roles = infra.Module("roles");
        Assert.Equal(roleId, (string?)roles["variables"]![role]);

        var assignment = CompiledInfrastructure.Resources(roles).Single(r =>
            (string?)r["type"] == "Microsoft.Authorization/roleAssignments" &&
            r["properties"]!["principalId"]!.ToString() != "[parameters('operatorPrincipalId')]" &&
            (r["properties"]!["roleDefinitionId"]!.ToString().Contains($"variables('{role}')", StringComparison.Ordinal) ||
             (r["copy"]?["input"]?.ToString() ?? r["copy"]?.ToJsonString() ?? "").Contains($"variables('{role}')", StringComparison.Ordinal)));

        Assert.Contains($"resourceId('{scopeType}'", assignment["scope"]!.ToString(), StringComparison.Ordinal);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", assignment["properties"]!["principalId"]!.ToString(), StringComparison.Ordinal);
        Assert.Equal("ServicePrincipal", (string?)assignment["properties"]!["principalType"]);
    }

    [BicepFact]
    public void No_role_is_assigned_above_a_resource()
    {
        var assignments = infra.AllResources().Where(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments").ToList();

        Assert.Equal(5, assignments.Count); // a loop over the three storage roles, the vault's, the App Insights one, the operator's two
        Assert.All(assignments, a => Assert.Contains("resourceId(", a["scope"]!.ToString(), StringComparison.Ordinal));
    }

    [BicepFact]
    public void Storage_has_the_queues_their_poison_queues_the_containers_the_tables_and_no_age_based_payload_deletion()
    {
        // The names match the local defaults, so a local run and Azure use the same queues, containers and table.
        var sample = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")))!["Values"]!;
        var variables = infra.Template["variables"]!;
        foreach (var queue in new[] { "PullRequestsQueue", "DeploymentsQueue", "DeploymentStatusesQueue", "CommandsQueue", "ProtectionRulesQueue", "PreviewsQueue" })
        {
            Assert.Equal((string?)sample[queue], (string?)variables["queues"]![queue]);
        }

        Assert.Equal((string?)sample["PayloadContainer"], (string?)variables["payloadContainer"]);
        Assert.Equal((string?)sample["LockContainer"], (string?)variables["lockContainer"]);
        Assert.Equal((string?)sample["HistoryTable"], (string?)variables["historyTable"]);
        Assert.Equal((string?)sample["LedgerTable"], (string?)variables["ledgerTable"]);
        Assert.Equal((string?)sample["LockTable"], (string?)variables["lockTable"]);
        Assert.Equal((string?)sample["PreviewTable"], (string?)variables["previewTable"]);
        Assert.Equal((string?)sample["BoardTable"], (string?)variables["boardTable"]);
        Assert.Contains("boardTableName", infra.Module("storage")["parameters"]!.AsObject().Select(p => p.Key));
        var storage = infra.Deployment("storage")["properties"]!["parameters"]!;
        Assert.Equal(6, storage["queueNames"]!["value"]!.AsArray().Count);
        var queues = Resources("Microsoft.Storage/storageAccounts/queueServices/queues").Single();
        Assert.Contains("-poison", queues["copy"]!.ToJsonString(), StringComparison.Ordinal);
        // A poisoned or waiting message may outlive any age: payload blobs are deleted by the app with their message only.
        Assert.Empty(Resources("Microsoft.Storage/storageAccounts/managementPolicies"));
    }

    [BicepFact]
    public void Outputs_give_the_webhook_url_the_app_name_and_the_resource_group()
    {
        var outputs = infra.Template["outputs"]!.AsObject();

        Assert.Contains("/api/github/webhooks", (string?)outputs["WEBHOOK_URL"]!["value"], StringComparison.Ordinal);
        Assert.True(outputs.ContainsKey("AZURE_FUNCTION_APP_NAME"));
        Assert.True(outputs.ContainsKey("AZURE_RESOURCE_GROUP"));
    }

    [BicepFact]
    public void Azd_parameters_map_the_environment_name_and_location()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("infra", "main.parameters.json")))!["parameters"]!;

        Assert.Equal("${AZURE_ENV_NAME}", (string?)parameters["environmentName"]!["value"]);
        Assert.Equal("${AZURE_LOCATION}", (string?)parameters["location"]!["value"]);
        var declared = infra.Template["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.All(parameters.AsObject(), p => Assert.Contains(p.Key, declared));
        Assert.NotNull(parameters["additionalAppSettings"]); // the README sends extra environments there
    }

    [BicepFact]
    public void The_targets_catalogue_becomes_app_settings_with_http_hooks_read_from_key_vault()
    {
        var parameter = infra.Template["parameters"]!["targets"]!;
        var settings = infra.Template["variables"]!["targetSettings"]!.ToString();

        Assert.Equal("array", (string?)parameter["type"]);
        Assert.Contains("targetSettings", AppSettingsExpression(), StringComparison.Ordinal);
        foreach (var name in new[] { "Provider", "Repositories", "Workflow", "WorkflowRef", "TimeoutSeconds", "DelaySeconds", "WatchdogMinutes", "EnvironmentUrl", "Url", "Secret" })
        {
            Assert.Contains($"format('Targets__{{0}}__{name}'", settings, StringComparison.Ordinal);
        }

        // The hook's URL and key: Key Vault references by the app's identity to the target's own secrets (never another one of
        // the vault, such as the GitHub App's key, which would then be sent to the hook), never a value in a parameter.
        Assert.Matches(new Regex(@"__bicep\.keyVaultReference\(variables\('vaultName'\), format\('target-\{0\}-url'"), settings);
        Assert.Matches(new Regex(@"__bicep\.keyVaultReference\(variables\('vaultName'\), format\('target-\{0\}-secret'"), settings);
        Assert.DoesNotContain("SecretName", settings, StringComparison.Ordinal);
    }

    [BicepFact]
    public void Alerts_exist_only_with_an_email_and_each_says_what_to_do()
    {
        Assert.Equal("[not(empty(parameters('alertEmail')))]", (string?)infra.Deployment("alerts")["condition"]);
        var alerts = infra.Module("alerts");
        var resources = CompiledInfrastructure.Resources(alerts).ToList();
        var group = resources.Single(r => (string?)r["type"] == "Microsoft.Insights/actionGroups");
        Assert.Contains("alertEmail", group["properties"]!["emailReceivers"]!.ToJsonString(), StringComparison.Ordinal);

        // Four log search rules (poison, watchdog, failure rate, webhook 5xx) and a metric rule on failed invocations.
        var rules = resources.Single(r => (string?)r["type"] == "Microsoft.Insights/scheduledQueryRules");
        Assert.Equal("[length(variables('logAlerts'))]", (string?)rules["copy"]!["count"]);
        var logAlerts = alerts["variables"]!["logAlerts"]!.AsArray();
        Assert.Equal(["poison", "watchdog", "failure-rate", "ingress-5xx"], logAlerts.Select(a => (string?)a!["name"]));
        Assert.Contains("runbookUrl", rules["properties"]!["description"]!.ToString(), StringComparison.Ordinal);
        var failures = resources.Single(r => (string?)r["type"] == "Microsoft.Insights/metricAlerts");
        Assert.Contains("requests/failed", failures["properties"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("runbookUrl", failures["properties"]!["description"]!.ToString(), StringComparison.Ordinal);
        Assert.All(resources.Where(r => ((string?)r["type"])!.Contains("Alerts", StringComparison.OrdinalIgnoreCase) || ((string?)r["type"])!.Contains("scheduledQueryRules", StringComparison.Ordinal)),
            r => Assert.Contains("actionGroups", r["properties"]!["actions"]!.ToJsonString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Poison watch:")]
    [InlineData("Watchdog: deployment")]
    [InlineData("reported error")]
    [InlineData("Board counted deployment")]
    [InlineData("Board undid deployment")]
    public void What_the_alerts_and_the_workbook_search_for_is_what_the_app_logs(string text)
    {
        // The log search rules and the workbook match these message starts: a reworded log line would silence them.
        var infrastructure = File.ReadAllText(RepositoryRoot.Combine("infra", "app", "alerts.bicep")) + File.ReadAllText(RepositoryRoot.Combine("infra", "app", "workbook.bicep"));
        Assert.Contains(text, infrastructure, StringComparison.Ordinal);
        var messages = Directory.EnumerateFiles(RepositoryRoot.Combine("src", "DeployFunctions"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), "Message = \"([^\"]*)\"").Select(m => m.Groups[1].Value));
        Assert.Contains(messages, m => m.Contains(text, StringComparison.Ordinal));
        Assert.Contains("GitHubWebhook", infrastructure, StringComparison.Ordinal);
        Assert.Equal("GitHubWebhook", DeployFunctions.Functions.WebhookIngressFunction.Name);
    }

    [BicepFact]
    public void The_workbook_shows_the_four_keys_from_the_apps_log()
    {
        var workbook = CompiledInfrastructure.Resources(infra.Module("workbook")).Single(r => (string?)r["type"] == "Microsoft.Insights/workbooks");
        var data = workbook["properties"]!["serializedData"]!.ToString();

        foreach (var figure in new[] { "DeploymentsPerDay", "LeadMedianHours", "ChangeFailureRate", "RestoreMedianHours" })
        {
            Assert.Contains(figure, infra.Module("workbook")["variables"]!.ToJsonString(), StringComparison.Ordinal);
        }

        Assert.Contains("content", data, StringComparison.Ordinal);
        Assert.Equal("shared", (string?)workbook["kind"]);
    }

    [BicepFact]
    public void Board_sign_in_with_entra_id_is_on_only_when_named_and_leaves_what_github_and_scripts_call_to_their_own_proof()
    {
        var auth = Resources("Microsoft.Web/sites/config").Single(r => ((string?)r["name"])!.Contains("authsettingsV2", StringComparison.Ordinal));
        Assert.Equal("[and(not(empty(parameters('signInTenantId'))), not(empty(parameters('signInClientId'))))]", (string?)auth["condition"]);
        var validation = auth["properties"]!["globalValidation"]!;
        Assert.True((bool)validation["requireAuthentication"]!);
        Assert.Equal("RedirectToLoginPage", (string?)validation["unauthenticatedClientAction"]);
        var excluded = validation["excludedPaths"]!.AsArray().Select(p => (string?)p).ToList();
        Assert.Contains("/api/github/webhooks", excluded);
        Assert.Contains("/api/deployments/report", excluded);
        Assert.DoesNotContain(excluded, p => p!.Contains("board", StringComparison.Ordinal) || p.Contains("metrics", StringComparison.Ordinal));
        Assert.Contains("BOARD_URL", infra.Template["outputs"]!.AsObject().Select(o => o.Key));
    }

    private string AppSettingsExpression() =>
        (string?)infra.Deployment("function")["properties"]!["parameters"]!["appSettings"]!["value"] ?? "";

    private IEnumerable<JsonObject> Resources(string type) => infra.AllResources().Where(r => (string?)r["type"] == type);
}
